// libFuzzer target: arbitrary bytes as a GTSRB PPM image.
#include <cstddef>
#include <cstdint>

#include "data/ppm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto image = vit_moe::data::ParsePpm(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.ppm");
  if (image.ok() && image->pixels.size() !=
                        static_cast<size_t>(image->width) * image->height * 3) {
    __builtin_trap();
  }
  return 0;
}
