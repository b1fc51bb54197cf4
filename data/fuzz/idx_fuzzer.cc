// libFuzzer target: arbitrary bytes as IDX images and as IDX labels.
#include <cstddef>
#include <cstdint>

#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto images = vit_moe::data::ParseIdxImages(bytes, "fuzz-images");
  if (images.ok() &&
      images->pixels.size() !=
          static_cast<size_t>(images->count) * images->rows * images->cols) {
    __builtin_trap();
  }
  auto labels = vit_moe::data::ParseIdxLabels(bytes, "fuzz-labels");
  if (labels.ok() && labels->size() + 8 != size) __builtin_trap();
  return 0;
}
