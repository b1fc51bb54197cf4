#include "data/image_file.h"

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace vit_moe::data {

bool HasImageExtension(const std::string& path) {
  const std::string ext =
      absl::AsciiStrToLower(std::filesystem::path(path).extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".ppm" ||
         ext == ".pgm" || ext == ".bmp";
}

absl::StatusOr<std::string> ReadImageFile(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", error.message()));
  }
  if (size > static_cast<uintmax_t>(kMaxImageFileBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes, above the limit of ",
                     kMaxImageFileBytes, " for one image"));
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  }
  return bytes;
}

absl::StatusOr<cv::Mat> DecodeImageFile(const std::string& path,
                                        const std::string& bytes,
                                        int imread_flags) {
  if (bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": empty file (0 bytes), not an image"));
  }
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U,
                       const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, imread_flags);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": OpenCV refuses the image: ", e.err));
  }
  if (image.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a decodable image (PNG, JPEG, PPM/PGM, BMP)"));
  }
  return image;
}

}  // namespace vit_moe::data
