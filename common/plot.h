// PNG figures for reports and training curves, drawn with PLplot's cairo PNG
// driver. Each call opens its own PLplot stream (no state leaks between
// figures), writes a temporary file beside the target and renames it into
// place, so a reader sees either no figure or a whole one.
//
// PLplot ends the process on internal errors, so these functions validate
// their inputs first and return InvalidArgument for anything PLplot would
// choke on. Non-finite y values (a diverged loss) are not errors: a line
// breaks there. Calls are serialised by a process-wide mutex because PLplot
// keeps its streams in global tables.
#ifndef VIT_MOE_COMMON_PLOT_H_
#define VIT_MOE_COMMON_PLOT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace vit_moe {

// One line of a line chart; x and y have equal length.
struct Series {
  std::string label;
  std::vector<double> x, y;
};

struct LineOptions {
  // Fixed y range; unset ends follow the data (with a 5% margin).
  std::optional<double> y_min, y_max;
  // Draws a marker at every point as well as the line.
  bool markers = false;
};

// Line chart with a legend (one entry per series with a label).
absl::Status PlotLines(const std::string& png_path, const std::string& title,
                       const std::string& x_label, const std::string& y_label,
                       const std::vector<Series>& series,
                       const LineOptions& options = {});

struct HeatmapOptions {
  std::string x_label, y_label;
  // Prints each cell's value inside it when the grid is at most this many
  // cells wide and tall; 0 never.
  int annotate_up_to = 15;
  // printf format of annotations (one double argument), e.g. "%.0f".
  std::string value_format = "%.2f";
};

// Heat map of rows[r][c]: row 0 at the top, one tick label per row and per
// column (row_labels.size() == rows.size(), column_labels.size() == width),
// and a colour bar from the smallest to the largest value.
absl::Status PlotHeatmap(const std::string& png_path, const std::string& title,
                         const std::vector<std::vector<double>>& rows,
                         const std::vector<std::string>& row_labels,
                         const std::vector<std::string>& column_labels,
                         const HeatmapOptions& options = {});

// One group member of a bar chart: values[i] is its bar in category i.
struct BarSeries {
  std::string label;
  std::vector<double> values;
};

// Grouped vertical bars, one group per category (labels under the axis).
absl::Status PlotBars(const std::string& png_path, const std::string& title,
                      const std::string& y_label,
                      const std::vector<std::string>& categories,
                      const std::vector<BarSeries>& series,
                      const LineOptions& options = {});

// One confidence bin of a reliability diagram.
struct ReliabilityBar {
  double lower = 0, upper = 0;  // bin edges on confidence
  double accuracy = 0;          // share correct among the bin's predictions
  double mean_confidence = 0;
  long long count = 0;  // predictions in the bin; empty bins not drawn
};

// Reliability diagram: accuracy bars per confidence bin, the gap to each
// bin's mean confidence shaded, and the diagonal of perfect calibration.
absl::Status PlotReliability(const std::string& png_path,
                             const std::string& title,
                             const std::vector<ReliabilityBar>& bins);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_PLOT_H_
