// libFuzzer target: arbitrary bytes as a CIFAR-10 binary batch and as
// batches.meta.txt.
#include <cstddef>
#include <cstdint>

#include "data/cifar_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  vit_moe::data::ImageSet set;
  if (vit_moe::data::AppendCifarBatch(bytes, "fuzz.bin", set).ok() &&
      set.pixels.size() != static_cast<size_t>(set.size()) * 3072) {
    __builtin_trap();
  }
  vit_moe::data::ParseCifarClassNames(bytes, "fuzz-meta.txt").IgnoreError();
  return 0;
}
