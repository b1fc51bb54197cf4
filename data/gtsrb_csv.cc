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

// A delimited table whose header names its columns. Columns are found by
// name, so their order may differ and extra columns are ignored; fields are
// trimmed of spaces and of one pair of surrounding double quotes, and a
// UTF-8 byte-order mark before the header is dropped (spreadsheets re-save
// these files that way).
struct Table {
  std::vector<size_t> positions;  // of `columns`' names, npos when absent
  struct Row {
    int line = 0;
    std::vector<absl::string_view> fields;
  };
  std::vector<Row> rows;
};

absl::string_view CleanField(absl::string_view field) {
  field = absl::StripAsciiWhitespace(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = field.substr(1, field.size() - 2);
  }
  return field;
}

// `columns` are the names looked for, the first `required` of them must
// be present.
absl::StatusOr<Table> ReadTable(absl::string_view text, const std::string& name,
                                char delimiter,
                                const std::vector<std::string>& columns,
                                size_t required) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  Table table;
  size_t width = 0;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, delimiter);
    for (absl::string_view& field : fields) field = CleanField(field);
    if (width == 0) {
      for (size_t i = 0; i < columns.size(); ++i) {
        auto at = std::find(fields.begin(), fields.end(), columns[i]);
        table.positions.push_back(
            at == fields.end() ? absl::string_view::npos
                               : static_cast<size_t>(at - fields.begin()));
        if (i < required && at == fields.end()) {
          return RowError(
              name, line_number,
              absl::StrCat(
                  "the header has no column \"", columns[i], "\" (it needs ",
                  absl::StrJoin(columns.begin(), columns.begin() + required,
                                std::string(1, delimiter)),
                  ", in any order)"));
        }
      }
      width = fields.size();
      continue;
    }
    if (fields.size() != width) {
      return RowError(
          name, line_number,
          absl::StrCat("expected ", width, " fields, got ", fields.size()));
    }
    table.rows.push_back({line_number, std::move(fields)});
  }
  if (width == 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": empty CSV file"));
  }
  return table;
}

// The integer columns every GTSRB table has, in GtsrbRow's order.
const std::vector<std::string>& NumberColumns() {
  static const auto* columns = new std::vector<std::string>{
      "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId"};
  return *columns;
}

// Rows of a table whose columns are {file column} + NumberColumns(), with
// ClassId the last and possibly absent. `file_ok` checks the file column.
absl::StatusOr<std::vector<GtsrbRow>> ReadRows(
    absl::string_view text, const std::string& name, char delimiter,
    const std::string& file_column, bool require_class_id,
    bool (*file_ok)(absl::string_view)) {
  std::vector<std::string> columns = {file_column};
  columns.insert(columns.end(), NumberColumns().begin(), NumberColumns().end());
  ASSIGN_OR_RETURN(Table table,
                   ReadTable(text, name, delimiter, columns,
                             columns.size() - (require_class_id ? 0 : 1)));
  const bool has_class = table.positions.back() != absl::string_view::npos;
  std::vector<GtsrbRow> rows;
  for (const Table::Row& fields : table.rows) {
    GtsrbRow row;
    row.line = fields.line;
    row.filename = std::string(fields.fields[table.positions[0]]);
    if (!file_ok(row.filename)) {
      return RowError(
          name, row.line,
          absl::StrCat("bad ", file_column, " \"", row.filename, "\""));
    }
    int* targets[] = {&row.width, &row.height, &row.x1,      &row.y1,
                      &row.x2,    &row.y2,     &row.class_id};
    for (size_t i = 0; i < NumberColumns().size(); ++i) {
      const size_t at = table.positions[i + 1];
      if (at == absl::string_view::npos) continue;
      if (!absl::SimpleAtoi(fields.fields[at], targets[i])) {
        return RowError(
            name, row.line,
            absl::StrCat(NumberColumns()[i], " \"", fields.fields[at],
                         "\" is not an integer"));
      }
    }
    RETURN_IF_ERROR(CheckRow(row, name, has_class));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbKaggleCsv(
    absl::string_view text, const std::string& name) {
  return ReadRows(text, name, ',', "Path", /*require_class_id=*/true,
                  &IsRelativePath);
}

absl::StatusOr<std::vector<GtsrbRow>> ParseGtsrbCsv(absl::string_view text,
                                                    const std::string& name,
                                                    bool require_class_id) {
  return ReadRows(text, name, ';', "Filename", require_class_id,
                  &IsPlainFileName);
}

}  // namespace vit_moe::data
