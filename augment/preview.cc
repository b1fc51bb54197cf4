#include "augment/preview.h"

#include <glog/logging.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "augment/batch_transforms.h"
#include "common/atomic_file.h"
#include "data/normalization.pb.h"

namespace vit_moe::augment {
namespace {

constexpr int kGap = 2;        // pixels between cells
constexpr int kSeparator = 8;  // pixels after the originals' column
constexpr uint8_t kBackground = 48;

// The options' statistics, 0.5 where none are given.
data::Normalization PreviewNormalization(const PreviewOptions& options,
                                         int64_t channels) {
  data::Normalization norm;
  for (const auto& [given, field] :
       {std::pair{&options.mean, norm.mutable_mean()},
        std::pair{&options.std, norm.mutable_std()}}) {
    if (!given->empty())
      CHECK_EQ(static_cast<int64_t>(given->size()), channels);
    for (int64_t c = 0; c < channels; ++c) {
      field->Add(given->empty() ? 0.5 : (*given)[c]);
    }
  }
  return norm;
}

// One training pass over the batch for `epoch`: the training transform,
// then mixing, mapped back to bytes for display.
torch::Tensor AugmentForEpoch(const Augmenter& augmenter,
                              const torch::Tensor& images,
                              const torch::Tensor& indices,
                              const PreviewOptions& options, int64_t epoch) {
  const int64_t channels = images.size(1);
  const data::Normalization norm = PreviewNormalization(options, channels);
  data::Batch batch;
  batch.images = images;
  batch.indices = indices;
  // The preview shows pixels only, so every sample gets the same class.
  batch.labels = torch::zeros({images.size(0)}, torch::kInt64);
  batch = TrainingTransform(augmenter, norm, options.seed, epoch,
                            /*pin_memory=*/false)(std::move(batch));
  MixedBatch mixed =
      augmenter.MixBatch(batch.images, batch.labels, /*num_classes=*/1,
                         options.seed, epoch, /*batch_index=*/0);
  const torch::Tensor mean =
      torch::tensor(std::vector<float>(norm.mean().begin(), norm.mean().end()))
          .view({1, channels, 1, 1});
  const torch::Tensor std =
      torch::tensor(std::vector<float>(norm.std().begin(), norm.std().end()))
          .view({1, channels, 1, 1});
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
