#include "augment/preview_sources.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "data/store.h"

namespace vit_moe::augment {

absl::StatusOr<PreviewImages> LoadStoreImages(const std::string& manifest_path,
                                              const std::string& split,
                                              int64_t first, int64_t count) {
  absl::StatusOr<data::DatasetStore> store =
      data::DatasetStore::Open(manifest_path);
  if (!store.ok()) return store.status();
  absl::StatusOr<const data::SplitData*> data = store->split(split);
  if (!data.ok()) return data.status();
  const int64_t size = (*data)->images.size(0);
  if (first < 0 || count < 1 || first + count > size) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, ": images ", first, "..", first + count - 1,
                     " requested, split \"", split, "\" has ", size));
  }
  PreviewImages result;
  // [N, H, W, C] -> [B, C, H, W]
  result.images = (*data)
                      ->images.slice(0, first, first + count)
                      .permute({0, 3, 1, 2})
                      .contiguous();
  result.indices = torch::arange(first, first + count, torch::kInt64);
  result.dataset = store->manifest().dataset();
  return result;
}

torch::Tensor PatternImages(int64_t count, int64_t first) {
  static const char* const kGlyphs[] = {"F", "R", "7", "4", "G", "J", "L", "P"};
  torch::Tensor images = torch::empty({count, 3, 32, 32}, torch::kUInt8);
  for (int64_t n = 0; n < count; ++n) {
    const int64_t i = first + n;
    cv::Mat image(32, 32, CV_8UC3);
    int hue = static_cast<int>((i * 47) % 180);
    image.setTo(cv::Scalar(hue, 120, 200));
    cv::cvtColor(image, image, cv::COLOR_HSV2RGB);
    // Bars along the top and left edges mark the orientation.
    cv::rectangle(image, cv::Rect(0, 0, 32, 3), cv::Scalar(20, 20, 20),
                  cv::FILLED);
    cv::rectangle(image, cv::Rect(0, 0, 3, 32), cv::Scalar(240, 240, 240),
                  cv::FILLED);
    cv::putText(image, kGlyphs[i % 8], cv::Point(8, 26),
                cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(10, 10, 60), 2);
    // [H, W, C] -> [C, H, W]
    torch::Tensor hwc =
        torch::from_blob(image.data, {32, 32, 3}, torch::kUInt8);
    images[n].copy_(hwc.permute({2, 0, 1}));
  }
  return images;
}

}  // namespace vit_moe::augment
