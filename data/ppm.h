// Binary PPM (P6) images, as GTSRB ships them. Free of LibTorch and OpenCV
// so the fuzz target stays small.
#ifndef VIT_MOE_DATA_PPM_H_
#define VIT_MOE_DATA_PPM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::data {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3] RGB
};

// Header: "P6", width, height, maxval (1..255) separated by whitespace and
// '#' comments, then exactly one whitespace byte and width*height*3 bytes.
// Samples are rescaled to 0..255 when maxval < 255. Anything else
// (truncated data, 16-bit samples, other magic, absurd sizes) returns
// InvalidArgument naming `name`.
absl::StatusOr<RgbImage> ParsePpm(absl::string_view bytes,
                                  const std::string& name);

// Writes a P6 image with maxval 255 (test fixtures and tools).
std::string EncodePpm(const RgbImage& image);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_PPM_H_
