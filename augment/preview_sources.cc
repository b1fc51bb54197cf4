#include "augment/preview_sources.h"

#include <zlib.h>

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "absl/strings/str_cat.h"

namespace vit_moe::augment {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// gzread passes plain files through unchanged, so one path serves both.
absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  std::string contents;
  char buffer[1 << 16];
  int read;
  while ((read = gzread(file, buffer, sizeof(buffer))) > 0) {
    contents.append(buffer, read);
  }
  bool failed = read < 0;
  gzclose(file);
  if (failed) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt gzip stream"));
  }
  return contents;
}

}  // namespace

absl::StatusOr<torch::Tensor> ReadIdxImages(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadMaybeGzipped(path);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() < 16 || BigEndian32(*bytes, 0) != kIdxImagesMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an IDX image file (magic 0x00000803)"));
  }
  int64_t count = BigEndian32(*bytes, 4);
  int64_t rows = BigEndian32(*bytes, 8);
  int64_t cols = BigEndian32(*bytes, 12);
  if (bytes->size() != 16 + static_cast<size_t>(count * rows * cols)) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes->size(),
                                            " bytes, header says ", count,
                                            " images of ", rows, "x", cols));
  }
  torch::Tensor images = torch::empty({count, 1, rows, cols}, torch::kUInt8);
  std::memcpy(images.data_ptr<uint8_t>(), bytes->data() + 16,
              static_cast<size_t>(count * rows * cols));
  return images;
}

torch::Tensor PatternImages(int64_t count) {
  static const char* const kGlyphs[] = {"F", "R", "7", "4", "G", "J", "L", "P"};
  torch::Tensor images = torch::empty({count, 3, 32, 32}, torch::kUInt8);
  for (int64_t i = 0; i < count; ++i) {
    cv::Mat image(32, 32, CV_8UC3);
    int hue = static_cast<int>((i * 47) % 180);
    image.setTo(cv::Scalar(hue, 120, 200));
    cv::cvtColor(image, image, cv::COLOR_HSV2RGB);
    // A bar along the top and left edges marks the orientation.
    cv::rectangle(image, cv::Rect(0, 0, 32, 3), cv::Scalar(20, 20, 20),
                  cv::FILLED);
    cv::rectangle(image, cv::Rect(0, 0, 3, 32), cv::Scalar(240, 240, 240),
                  cv::FILLED);
    cv::putText(image, kGlyphs[i % 8], cv::Point(8, 26),
                cv::FONT_HERSHEY_SIMPLEX, 0.9, cv::Scalar(10, 10, 60), 2);
    // [H, W, C] -> [C, H, W]
    torch::Tensor hwc =
        torch::from_blob(image.data, {32, 32, 3}, torch::kUInt8);
    images[i].copy_(hwc.permute({2, 0, 1}));
  }
  return images;
}

}  // namespace vit_moe::augment
