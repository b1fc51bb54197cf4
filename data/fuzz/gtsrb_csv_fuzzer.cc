// libFuzzer target: arbitrary bytes as a GTSRB annotation CSV, with and
// without the ClassId column required.
#include <cstddef>
#include <cstdint>

#include "data/gtsrb_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool require_class_id : {false, true}) {
    auto rows =
        vit_moe::data::ParseGtsrbCsv(text, "GT-fuzz.csv", require_class_id);
    if (!rows.ok()) continue;
    for (const auto& row : *rows) {
      if (row.x1 > row.x2 || row.y1 > row.y2 || row.width < 1) __builtin_trap();
    }
  }
  return 0;
}
