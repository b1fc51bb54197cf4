// GTSRB annotation files: ';'-separated, header
// "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId", one row per
// image. The test set's public file (GT-final_test.test.csv) lacks ClassId.
// No LibTorch, no OpenCV (fuzzed).
#ifndef VIT_MOE_DATA_GTSRB_CSV_H_
#define VIT_MOE_DATA_GTSRB_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::data {

struct GtsrbRow {
  std::string filename;  // plain file name, no folder part
  int width = 0;
  int height = 0;
  // Region of interest, inclusive pixel coordinates.
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int class_id = -1;  // -1 when the file has no ClassId column
  int line = 0;       // line number in the file (the header is line 1)
};

// Both readers find columns by their header names (any order, other
// columns ignored), accept "\n" and "\r\n" line ends, a UTF-8 byte-order
// mark, spaces around fields and double-quoted fields, and skip empty
// lines. Errors name the file and line: "GT-00000.csv:7: expected 8 fields,
// got 5". With `require_class_id` the ClassId column must be present and
// 0..42.
absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbCsv(absl::string_view text,
                                                    const std::string& name,
                                                    bool require_class_id);

// The Kaggle re-distribution's Train.csv / Test.csv: ','-separated, header
// "Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path", Path relative to
// the CSV's folder ("Train/20/00020_00000_00000.png", "Test/00000.png";
// absolute paths and "." or ".." components refused). `filename` holds the
// Path. Same checks and messages as ParseGtsrbCsv.
absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbKaggleCsv(
    absl::string_view text, const std::string& name);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_GTSRB_CSV_H_
