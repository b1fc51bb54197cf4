#include "eval/ood_sources.h"

#include <ATen/CPUGeneratorImpl.h>

namespace vit_moe::eval {
namespace {

data::Batch Noise(data::Batch b, uint64_t seed) {
  const int64_t* index = b.indices.data_ptr<int64_t>();
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < b.images.size(0); ++i) {
    // splitmix64's odd constant spreads neighbouring indices apart.
    at::Generator gen = at::detail::createCPUGenerator(
        seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index[i] + 1)));
    images.push_back(torch::randint(0, 256, b.images[i].sizes(), gen,
                                    torch::TensorOptions(torch::kUInt8)));
  }
  b.images = torch::stack(images);
  return b;
}

}  // namespace

std::vector<OodTransform> OodTransforms(uint64_t seed) {
  return {
      {"noise", "uniform noise, every pixel 0..255 independently",
       [seed](data::Batch b) { return Noise(std::move(b), seed); }},
      {"vflip", "the evaluated split's images upside down",
       [](data::Batch b) {
         b.images = b.images.flip({2}).contiguous();  // [B, C, H, W]
         return b;
       }},
      {"invert", "the evaluated split's images in negative (255 - pixel)",
       [](data::Batch b) {
         b.images = (255 - b.images.to(torch::kInt16)).to(torch::kUInt8);
         return b;
       }},
  };
}

}  // namespace vit_moe::eval
