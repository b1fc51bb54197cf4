#include "model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "glog/logging.h"

namespace vit_moe::model {
namespace {

namespace F = torch::nn::functional;

// The SplitMix64 output for position `index` of the stream started at
// `seed` (Steele, Lea and Flood 2014): a counter-based generator, so any
// thread can produce any element.
inline uint64_t SplitMix64(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <typename T>
void FillKeepMask(T* out, int64_t n, uint64_t seed, uint64_t threshold,
                  T scale) {
  const int64_t pairs = (n + 1) / 2;
  // Large grains: each pair is a few cycles, and waking the other thread
  // for a small mask costs more than it saves.
  at::parallel_for(0, pairs, 1 << 14, [&](int64_t begin, int64_t end) {
    const T zero(0);
    for (int64_t j = begin; j < end; ++j) {
      const uint64_t bits = SplitMix64(seed, static_cast<uint64_t>(j));
      const int64_t i = 2 * j;
      out[i] = (bits & 0xFFFFFFFFULL) < threshold ? scale : zero;
      if (i + 1 < n) out[i + 1] = (bits >> 32) < threshold ? scale : zero;
    }
  });
}

// One 64-bit draw from torch's default CPU generator.
uint64_t DrawMaskSeed() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

}  // namespace

torch::Tensor KeepMask(at::IntArrayRef shape, double keep,
                       torch::ScalarType dtype, uint64_t seed) {
  CHECK(keep > 0.0 && keep < 1.0) << "keep probability " << keep;
  torch::Tensor mask = torch::empty(shape, torch::dtype(dtype));
  // P(u < threshold) = threshold / 2^32 for u uniform on 32 bits.
  const auto threshold =
      static_cast<uint64_t>(std::llround(std::ldexp(keep, 32)));
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, dtype, "KeepMask", [&] {
        FillKeepMask<scalar_t>(mask.data_ptr<scalar_t>(), mask.numel(), seed,
                               threshold, static_cast<scalar_t>(1.0 / keep));
      });
  return mask;
}

torch::Tensor Dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (!x.is_cpu()) {
    return F::dropout(x, F::DropoutFuncOptions().p(p).training(true));
  }
  if (p >= 1.0) return x * 0;
  return x * KeepMask(x.sizes(), 1.0 - p, x.scalar_type(), DrawMaskSeed());
}

torch::Tensor AddDropPath(const torch::Tensor& x, const torch::Tensor& branch,
                          double p, bool training) {
  if (!training || p <= 0.0) return x + branch;
  if (p >= 1.0) return x + branch * 0;
  std::vector<int64_t> shape(branch.dim(), 1);
  shape[0] = branch.size(0);  // [B, 1, ...]
  // In the wider of the two dtypes, so 1/(1-p) is not rounded to bf16.
  const torch::ScalarType dtype =
      torch::promote_types(x.scalar_type(), branch.scalar_type());
  torch::Tensor keep;
  if (branch.is_cpu()) {
    keep = KeepMask(shape, 1.0 - p, dtype, DrawMaskSeed());
  } else {
    keep = torch::empty(shape, branch.options().dtype(dtype))
               .bernoulli_(1.0 - p)
               .div_(1.0 - p);
  }
  return torch::addcmul(x, branch, keep);
}

}  // namespace vit_moe::model
