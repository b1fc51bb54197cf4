// Reading and decoding one image file a user gives, bounded before anything
// is allocated: by the file's size here, by the pixel count in OpenCV (its
// decoders refuse more than 2^30 pixels from the header alone).
#ifndef VIT_MOE_DATA_IMAGE_FILE_H_
#define VIT_MOE_DATA_IMAGE_FILE_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace vit_moe::data {

// Largest image file read (64 MiB: a 4096x4096 RGB PPM is 48 MiB).
inline constexpr int64_t kMaxImageFileBytes = int64_t{64} << 20;

// The bytes of one image file; InvalidArgument naming it when it cannot be
// read or is larger than kMaxImageFileBytes (checked before reading).
absl::StatusOr<std::string> ReadImageFile(const std::string& path);

// True when `path` ends in an extension the image readers take as an image
// (.png .jpg .jpeg .ppm .pgm .bmp, any case): the files an image-folder
// import reads and //eval:predict takes from a folder.
bool HasImageExtension(const std::string& path);

// Decodes `bytes` (read from `path`) with OpenCV's `imread_flags`;
// InvalidArgument naming `path` when they hold no image OpenCV decodes, or
// one it refuses (too many pixels, a corrupt stream).
absl::StatusOr<cv::Mat> DecodeImageFile(const std::string& path,
                                        const std::string& bytes,
                                        int imread_flags);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_IMAGE_FILE_H_
