#include "data/gtsrb_csv.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace vit_moe::data {
namespace {

constexpr int kNumClasses = 43;
constexpr int kMaxSide = 1 << 14;

const std::vector<std::string>& Columns() {
  static const auto* columns =
      new std::vector<std::string>{"Filename", "Width",  "Height", "Roi.X1",
                                   "Roi.Y1",   "Roi.X2", "Roi.Y2", "ClassId"};
  return *columns;
}

absl::Status RowError(const std::string& name, int line,
                      absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ":", line, ": ", what));
}

bool IsPlainFileName(absl::string_view file) {
  return !file.empty() && file != "." && file != ".." &&
         file.find('/') == absl::string_view::npos &&
         file.find('\\') == absl::string_view::npos &&
         file.find('\0') == absl::string_view::npos;
}

// Sizes, ROI and (with `has_class`) ClassId of a parsed row.
absl::Status CheckRow(const GtsrbRow& row, const std::string& name,
                      bool has_class) {
  const int line_number = row.line;
  if (row.width < 1 || row.height < 1 || row.width > kMaxSide ||
      row.height > kMaxSide) {
    return RowError(name, line_number,
                    absl::StrCat("image size ", row.width, "x", row.height,
                                 " out of range"));
  }
  if (row.x1 < 0 || row.y1 < 0 || row.x1 > row.x2 || row.y1 > row.y2 ||
      row.x1 >= row.width || row.y1 >= row.height) {
    return RowError(
        name, line_number,
        absl::StrCat("ROI (", row.x1, ",", row.y1, ")-(", row.x2, ",", row.y2,
                     ") is not inside ", row.width, "x", row.height));
  }
  if (has_class && (row.class_id < 0 || row.class_id >= kNumClasses)) {
    return RowError(name, line_number,
                    absl::StrCat("ClassId ", row.class_id,
                                 " is not a GTSRB class (0..42)"));
  }
  return absl::OkStatus();
}

// A Kaggle Path: relative, '/'-separated, no "." or ".." component.
bool IsRelativePath(absl::string_view path) {
  if (path.empty() || path.front() == '/' ||
      path.find('\\') != absl::string_view::npos ||
      path.find('\0') != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbKaggleCsv(
    absl::string_view text, const std::string& name) {
  static const auto* kColumns =
      new std::vector<std::string>{"Width",  "Height", "Roi.X1",  "Roi.Y1",
                                   "Roi.X2", "Roi.Y2", "ClassId", "Path"};
  std::vector<GtsrbRow> rows;
  int line_number = 0;
  bool header = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    if (!header) {
      if (fields.size() != kColumns->size() ||
          !std::equal(fields.begin(), fields.end(), kColumns->begin())) {
        return RowError(name, line_number,
                        absl::StrCat("header must be \"",
                                     absl::StrJoin(*kColumns, ","), "\""));
      }
      header = true;
      continue;
    }
    if (fields.size() != kColumns->size()) {
      return RowError(name, line_number,
                      absl::StrCat("expected ", kColumns->size(),
                                   " fields, got ", fields.size()));
    }
    GtsrbRow row;
    row.line = line_number;
    row.filename = std::string(fields[7]);
    if (!IsRelativePath(row.filename)) {
      return RowError(name, line_number,
                      absl::StrCat("bad path \"", row.filename, "\""));
    }
    int* targets[] = {&row.width, &row.height, &row.x1,      &row.y1,
                      &row.x2,    &row.y2,     &row.class_id};
    for (size_t i = 0; i < 7; ++i) {
      if (!absl::SimpleAtoi(fields[i], targets[i])) {
        return RowError(name, line_number,
                        absl::StrCat((*kColumns)[i], " \"", fields[i],
                                     "\" is not an integer"));
      }
    }
    RETURN_IF_ERROR(CheckRow(row, name, /*has_class=*/true));
    rows.push_back(std::move(row));
  }
  if (!header) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty CSV file"));
  }
  return rows;
}

absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbCsv(absl::string_view text,
                                                    const std::string& name,
                                                    bool require_class_id) {
  std::vector<GtsrbRow> rows;
  size_t num_columns = 0;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ';');
    if (num_columns == 0) {
      const auto& columns = Columns();
      bool with_class = fields.size() == columns.size();
      bool without_class = fields.size() == columns.size() - 1;
      bool names_match = with_class || without_class;
      for (size_t i = 0; names_match && i < fields.size(); ++i) {
        names_match = fields[i] == columns[i];
      }
      if (!names_match || (require_class_id && !with_class)) {
        return RowError(name, line_number,
                        absl::StrCat("header must be \"",
                                     absl::StrJoin(columns, ";"), "\""));
      }
      num_columns = fields.size();
      continue;
    }
    if (fields.size() != num_columns) {
      return RowError(name, line_number,
                      absl::StrCat("expected ", num_columns, " fields, got ",
                                   fields.size()));
    }
    GtsrbRow row;
    row.line = line_number;
    row.filename = std::string(fields[0]);
    if (!IsPlainFileName(row.filename)) {
      return RowError(name, line_number,
                      absl::StrCat("bad file name \"", row.filename, "\""));
    }
    int* targets[] = {&row.width, &row.height, &row.x1,      &row.y1,
                      &row.x2,    &row.y2,     &row.class_id};
    for (size_t i = 1; i < num_columns; ++i) {
      if (!absl::SimpleAtoi(fields[i], targets[i - 1])) {
        return RowError(name, line_number,
                        absl::StrCat(Columns()[i], " \"", fields[i],
                                     "\" is not an integer"));
      }
    }
    RETURN_IF_ERROR(CheckRow(row, name, num_columns == Columns().size()));
    rows.push_back(std::move(row));
  }
  if (num_columns == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty CSV file"));
  }
  return rows;
}

}  // namespace vit_moe::data
