#include "augment/preview.h"

#include <glog/logging.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"

namespace vit_moe::augment {
namespace {

constexpr int kGap = 2;        // pixels between cells
constexpr int kSeparator = 8;  // pixels after the originals' column
constexpr uint8_t kBackground = 48;

// [1, C, 1, 1] statistics from the options, 0.5 where none are given.
torch::Tensor Statistic(const std::vector<double>& values, int64_t channels) {
  std::vector<float> filled(channels, 0.5f);
  if (!values.empty()) {
    CHECK_EQ(static_cast<int64_t>(values.size()), channels);
    std::copy(values.begin(), values.end(), filled.begin());
  }
  return torch::tensor(filled).view({1, channels, 1, 1});
}

// One training pass over the batch for `epoch`: per-sample ops, then
// normalisation, erasing and mixing, mapped back to bytes for display.
torch::Tensor AugmentForEpoch(const Augmenter& augmenter,
                              const torch::Tensor& images,
                              const torch::Tensor& indices,
                              const PreviewOptions& options, int64_t epoch) {
  torch::Tensor mean = Statistic(options.mean, images.size(1));
  torch::Tensor std = Statistic(options.std, images.size(1));
  torch::Tensor augmented =
      augmenter.AugmentImages(images, indices, options.seed, epoch);
  torch::Tensor normalized =
      (augmented.to(torch::kFloat32) / 255.0 - mean) / std;  // [B, C, H, W]
  torch::Tensor erased =
      augmenter.EraseImages(normalized, indices, options.seed, epoch);
  // The preview shows pixels only, so every sample gets the same class.
  torch::Tensor labels = torch::zeros({images.size(0)}, torch::kInt64);
  MixedBatch mixed =
      augmenter.MixBatch(erased, labels, /*num_classes=*/1, options.seed, epoch,
                         /*batch_index=*/0);
  return ((mixed.images * std + mean) * 255.0)
      .round()
      .clamp(0, 255)
      .to(torch::kUInt8);
}

}  // namespace

torch::Tensor BuildPreviewGrid(const Augmenter& augmenter,
                               const torch::Tensor& images,
                               const torch::Tensor& indices,
                               const PreviewOptions& options) {
  CHECK_EQ(images.dim(), 4);
  CHECK_GE(options.versions, 0);
  CHECK_GE(options.scale, 1);
  const int64_t rows = images.size(0);
  const int64_t channels = images.size(1);
  const int64_t cell_h = images.size(2) * options.scale;
  const int64_t cell_w = images.size(3) * options.scale;
  const int64_t columns = 1 + options.versions;
  const int64_t height = rows * cell_h + (rows + 1) * kGap;
  const int64_t width = columns * cell_w + (columns + 1) * kGap +
                        (options.versions > 0 ? kSeparator : 0);
  torch::Tensor grid =
      torch::full({height, width, channels}, kBackground, torch::kUInt8);

  std::vector<torch::Tensor> column_images = {images};
  for (int v = 0; v < options.versions; ++v) {
    column_images.push_back(AugmentForEpoch(augmenter, images, indices, options,
                                            options.epoch + v));
  }
  for (int64_t column = 0; column < columns; ++column) {
    // [B, C, H, W] -> [B, H*s, W*s, C]
    torch::Tensor cells = column_images[column]
                              .repeat_interleave(options.scale, 2)
                              .repeat_interleave(options.scale, 3)
                              .permute({0, 2, 3, 1});
    int64_t x = kGap + column * (cell_w + kGap) + (column > 0 ? kSeparator : 0);
    for (int64_t row = 0; row < rows; ++row) {
      int64_t y = kGap + row * (cell_h + kGap);
      grid.slice(0, y, y + cell_h).slice(1, x, x + cell_w).copy_(cells[row]);
    }
  }
  return grid;
}

absl::Status WritePng(const std::string& path, const torch::Tensor& image) {
  CHECK_EQ(image.dim(), 3);
  CHECK(image.scalar_type() == torch::kUInt8);
  torch::Tensor pixels = image.contiguous();
  const int channels = static_cast<int>(pixels.size(2));
  CHECK(channels == 1 || channels == 3) << channels;
  cv::Mat mat(static_cast<int>(pixels.size(0)),
              static_cast<int>(pixels.size(1)), CV_8UC(channels),
              pixels.data_ptr<uint8_t>());
  cv::Mat bgr;
  if (channels == 3) {
    cv::cvtColor(mat, bgr, cv::COLOR_RGB2BGR);  // OpenCV writes BGR order
  } else {
    bgr = mat;
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) {
    return absl::InternalError(absl::StrCat(path, ": PNG encoding failed"));
  }
  return WriteFileAtomically(
      path, std::string(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace vit_moe::augment
