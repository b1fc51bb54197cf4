#include "data/normalization.h"

#include <glog/logging.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/status_macros.h"

namespace vit_moe::data {

torch::Tensor NormalizeImages(const torch::Tensor& images,
                              const Normalization& norm) {
  CHECK_EQ(images.dim(), 4) << "images must be [B, C, H, W]";
  return NormalizePixels(images.to(torch::kFloat32).div_(255.0f), norm);
}

torch::Tensor NormalizePixels(const torch::Tensor& pixels,
                              const Normalization& norm) {
  CHECK_EQ(pixels.dim(), 4) << "pixels must be [B, C, H, W]";
  const int64_t channels = pixels.size(1);
  CHECK_EQ(channels, norm.mean_size());
  CHECK_EQ(channels, norm.std_size());
  std::vector<float> mean(norm.mean().begin(), norm.mean().end());
  std::vector<float> inverse_std;
  for (double s : norm.std())
    inverse_std.push_back(static_cast<float>(1.0 / s));
  torch::Tensor mean_t =
      torch::tensor(mean).view({1, channels, 1, 1});  // [1, C, 1, 1]
  torch::Tensor scale_t =
      torch::tensor(inverse_std).view({1, channels, 1, 1});  // [1, C, 1, 1]
  return (pixels - mean_t.to(pixels.device())) * scale_t.to(pixels.device());
}

absl::StatusOr<Normalization> ReadNormalization(const std::string& path) {
  Normalization norm;
  RETURN_IF_ERROR(ReadBinaryProto(path, &norm));
  if ((norm.mean_size() != 1 && norm.mean_size() != 3) ||
      norm.std_size() != norm.mean_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": mean and std must both list 1 or 3 channels (got ",
        norm.mean_size(), " and ", norm.std_size(), ")"));
  }
  for (int c = 0; c < norm.std_size(); ++c) {
    if (!(norm.std(c) > 0) || !std::isfinite(norm.mean(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": std[", c, "] must be > 0 and mean finite"));
    }
  }
  return norm;
}

absl::StatusOr<Normalization> ComputeNormalization(const DatasetStore& store) {
  ASSIGN_OR_RETURN(const SplitData* train, store.split("train"));
  const torch::Tensor& images = train->images;  // [N, H, W, C] uint8
  const int64_t channels = images.size(3);
  const int64_t pixels_per_channel = images.numel() / channels;
  if (pixels_per_channel == 0) {
    return absl::FailedPreconditionError("the train split has no images");
  }
  // Integer sums are exact; 2^64 / 255^2 is far beyond any data set here.
  std::vector<uint64_t> sum(channels, 0), sum_squares(channels, 0);
  const uint8_t* data = images.data_ptr<uint8_t>();
  const int64_t total = images.numel();
  for (int64_t i = 0; i < total; i += channels) {
    for (int64_t c = 0; c < channels; ++c) {
      uint64_t v = data[i + c];
      sum[c] += v;
      sum_squares[c] += v * v;
    }
  }
  Normalization norm;
  const uint64_t n = static_cast<uint64_t>(pixels_per_channel);
  for (int64_t c = 0; c < channels; ++c) {
    // n * sum(x^2) - (sum x)^2 exactly in 128 bits, so the variance carries
    // no cancellation error; only the final division rounds.
    unsigned __int128 spread =
        static_cast<unsigned __int128>(n) * sum_squares[c] -
        static_cast<unsigned __int128>(sum[c]) * sum[c];
    double mean = static_cast<double>(sum[c]) / static_cast<double>(n) / 255.0;
    double variance = static_cast<double>(spread) /
                      (static_cast<double>(n) * static_cast<double>(n)) /
                      (255.0 * 255.0);
    norm.add_mean(mean);
    norm.add_std(std::sqrt(variance));
  }
  norm.set_num_images(images.size(0));
  norm.set_manifest_sha256(store.manifest_sha256());
  norm.set_split("train");
  return norm;
}

}  // namespace vit_moe::data
