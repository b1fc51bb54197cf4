#include "common/plot.h"

#include <plplot/plstream.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"

namespace vit_moe {
namespace {

// Colour map 0 indices. 0 is the page background.
constexpr int kWhite = 0;
constexpr int kInk = 1;
constexpr int kGrid = 2;
constexpr int kGap = 3;
constexpr int kFirstSeries = 4;
constexpr int kSeriesColours = 10;

void SetPalette(plstream& pls) {
  // Background, ink, grid, translucent red, then the ten "tab10" colours:
  // distinct for up to ten lines and readable in grey-scale print.
  const PLINT r[] = {255, 0,   215, 214, 31,  255, 44,
                     214, 148, 140, 227, 127, 188, 23};
  const PLINT g[] = {255, 0,   215, 39,  119, 127, 160,
                     39,  103, 86,  119, 127, 189, 190};
  const PLINT b[] = {255, 0,   215, 40,  180, 14, 44,
                     40,  189, 75,  194, 127, 34, 207};
  const PLFLT a[] = {1, 1, 1, 0.45, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  pls.scmap0a(r, g, b, a, 14);
  // Colour map 1 (heat maps): white -> dark blue, linear in RGB.
  const PLFLT pos[] = {0.0, 1.0};
  const PLFLT red[] = {1.0, 0.03};
  const PLFLT green[] = {1.0, 0.19};
  const PLFLT blue[] = {1.0, 0.42};
  pls.scmap1l(/*itype=*/true, 2, pos, red, green, blue);
}

int SeriesColour(size_t i) { return kFirstSeries + i % kSeriesColours; }

// '#' starts a PLplot text escape; class names may contain it.
std::string Text(const std::string& s) {
  return absl::StrReplaceAll(s, {{"#", "##"}});
}

std::mutex& PlotMutex() {
  static std::mutex* mutex = new std::mutex;
  return *mutex;
}

// One PNG being drawn: a private PLplot stream writing to a temporary file
// beside the target. Finish() closes the stream, checks the PNG and renames
// it onto the target; destruction without Finish() removes the temporary.
class Figure {
 public:
  static absl::StatusOr<std::unique_ptr<Figure>> Open(const std::string& path,
                                                      int width, int height) {
    if (path.empty()) return absl::InvalidArgumentError("empty figure path");
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      RETURN_IF_ERROR(MakeDirectories(path.substr(0, slash)));
    }
    static int counter = 0;
    std::string temp =
        absl::StrCat(path, ".tmp.", getpid(), ".", counter++, ".png");
    // PLplot exits the process when it cannot open its output, so find out
    // first whether the file can be created.
    std::FILE* probe = std::fopen(temp.c_str(), "wb");
    if (probe == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot create figure ", temp, ": ", std::strerror(errno)));
    }
    std::fclose(probe);
    auto figure = std::unique_ptr<Figure>(new Figure(path, std::move(temp)));
    plstream& pls = *figure->stream_;
    pls.sdev("pngcairo");
    pls.sfnam(figure->temp_.c_str());
    pls.spage(0, 0, width, height, 0, 0);
    SetPalette(pls);
    pls.init();
    pls.adv(0);
    return figure;
  }

  ~Figure() {
    stream_.reset();
    if (!finished_) std::remove(temp_.c_str());
  }

  plstream& pls() { return *stream_; }

  absl::Status Finish() {
    stream_.reset();  // plend1: the driver writes and closes the PNG
    finished_ = true;
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(temp_));
    static const char kSignature[] = "\x89PNG\r\n\x1a\n";
    if (bytes.size() < 64 || bytes.compare(0, 8, kSignature, 8) != 0) {
      std::remove(temp_.c_str());
      return absl::InternalError(
          absl::StrCat("PLplot wrote no valid PNG for ", path_));
    }
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
      std::remove(temp_.c_str());
      return absl::InternalError(absl::StrCat(
          "cannot rename figure onto ", path_, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

 private:
  Figure(std::string path, std::string temp)
      : path_(std::move(path)),
        temp_(std::move(temp)),
        stream_(std::make_unique<plstream>()) {}

  std::string path_;
  std::string temp_;
  std::unique_ptr<plstream> stream_;
  bool finished_ = false;
};

struct Range {
  double lo = 0, hi = 1;
};

// Widens a degenerate range and adds a margin of `margin` times its span.
Range Pad(double lo, double hi, double margin) {
  if (!(lo <= hi)) return Range{0, 1};
  if (hi - lo < 1e-12) {
    const double half = std::max(0.5, std::abs(lo) * 0.05);
    return Range{lo - half, hi + half};
  }
  const double m = (hi - lo) * margin;
  return Range{lo - m, hi + m};
}

Range YRange(double lo, double hi, const LineOptions& options) {
  Range r = Pad(lo, hi, 0.05);
  if (options.y_min) r.lo = *options.y_min;
  if (options.y_max) r.hi = *options.y_max;
  if (!(r.lo < r.hi)) r = Pad(r.lo, r.lo, 0);
  return r;
}

// Axes with a light grid. With a legend, the plot leaves the right quarter of
// the page for it.
void DrawAxes(plstream& pls, Range x, Range y, const std::string& title,
              const std::string& x_label, const std::string& y_label,
              bool room_for_legend) {
  pls.vpor(0.1, room_for_legend ? 0.74 : 0.95, 0.12, 0.9);
  pls.wind(x.lo, x.hi, y.lo, y.hi);
  pls.col0(kGrid);
  pls.width(1);
  pls.box("g", 0, 0, "g", 0, 0);
  pls.col0(kInk);
  pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
  pls.lab(Text(x_label).c_str(), Text(y_label).c_str(), Text(title).c_str());
}

enum class Key { kLine, kBox };

struct LegendEntry {
  std::string text;
  int colour;
  Key key;
  int line_style = 1;
};

void DrawLegend(plstream& pls, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return;
  const int n = entries.size();
  std::vector<PLINT> opts(n), colours(n), styles(n), patterns(n, 0);
  std::vector<PLFLT> widths(n, 2.0), scales(n, 0.8), box_widths(n, 1.0);
  std::vector<std::string> texts(n);
  std::vector<const char*> text_ptrs(n);
  for (int i = 0; i < n; ++i) {
    opts[i] =
        entries[i].key == Key::kLine ? PL_LEGEND_LINE : PL_LEGEND_COLOR_BOX;
    colours[i] = entries[i].colour;
    styles[i] = entries[i].line_style;
    texts[i] = Text(entries[i].text);
    text_ptrs[i] = texts[i].c_str();
  }
  std::vector<PLINT> text_colours(n, kInk);
  PLFLT legend_width = 0, legend_height = 0;
  pls.legend(&legend_width, &legend_height,
             PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
             /*x=*/0.02, /*y=*/0.0, /*plot_width=*/0.05, /*bg_color=*/kWhite,
             /*bb_color=*/kInk, /*bb_style=*/1, /*nrow=*/0, /*ncolumn=*/0, n,
             opts.data(), /*text_offset=*/1.0, /*text_scale=*/0.75,
             /*text_spacing=*/2.0, /*text_justification=*/0.0,
             text_colours.data(), text_ptrs.data(), colours.data(),
             patterns.data(), scales.data(), box_widths.data(), colours.data(),
             styles.data(), widths.data(), nullptr, nullptr, nullptr, nullptr);
}

void FillRect(plstream& pls, double x0, double x1, double y0, double y1) {
  const PLFLT xs[] = {x0, x1, x1, x0};
  const PLFLT ys[] = {y0, y0, y1, y1};
  pls.fill(4, xs, ys);
}

void OutlineRect(plstream& pls, double x0, double x1, double y0, double y1) {
  const PLFLT xs[] = {x0, x1, x1, x0, x0};
  const PLFLT ys[] = {y0, y0, y1, y1, y0};
  pls.line(5, xs, ys);
}

// Draws the finite stretches of a series; a lone finite point becomes a dot.
void DrawSeries(plstream& pls, const Series& s, bool markers) {
  std::vector<PLFLT> xs, ys;
  auto flush = [&] {
    if (xs.size() >= 2) pls.line(xs.size(), xs.data(), ys.data());
    if (xs.size() == 1 || (markers && !xs.empty())) {
      pls.poin(xs.size(), xs.data(), ys.data(), 17);
    }
    xs.clear();
    ys.clear();
  };
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (std::isfinite(s.y[i])) {
      xs.push_back(s.x[i]);
      ys.push_back(s.y[i]);
    } else {
      flush();
    }
  }
  flush();
}

size_t LongestLabel(const std::vector<std::string>& labels) {
  size_t longest = 0;
  for (const std::string& s : labels) longest = std::max(longest, s.size());
  return longest;
}

}  // namespace

absl::Status PlotLines(const std::string& png_path, const std::string& title,
                       const std::string& x_label, const std::string& y_label,
                       const std::vector<Series>& series,
                       const LineOptions& options) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Series& s : series) {
    if (s.x.size() != s.y.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("plot ", png_path, ": series '", s.label, "' has ",
                       s.x.size(), " x values but ", s.y.size(), " y values"));
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("plot ", png_path, ": series '", s.label,
                         "' has a non-finite x value at index ", i));
      }
      if (!std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  }
  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < series.size(); ++i) {
    if (!series[i].label.empty()) {
      legend.push_back({series[i].label, SeriesColour(i), Key::kLine});
    }
  }
  std::lock_guard<std::mutex> lock(PlotMutex());
  ASSIGN_OR_RETURN(auto figure, Figure::Open(png_path, 1000, 640));
  plstream& pls = figure->pls();
  DrawAxes(pls, Pad(x_lo, x_hi, 0.0), YRange(y_lo, y_hi, options), title,
           x_label, y_label, !legend.empty());
  pls.width(2);
  for (size_t i = 0; i < series.size(); ++i) {
    pls.col0(SeriesColour(i));
    DrawSeries(pls, series[i], options.markers);
  }
  pls.width(1);
  DrawLegend(pls, legend);
  return figure->Finish();
}

absl::Status PlotHeatmap(const std::string& png_path, const std::string& title,
                         const std::vector<std::vector<double>>& rows,
                         const std::vector<std::string>& row_labels,
                         const std::vector<std::string>& column_labels,
                         const HeatmapOptions& options) {
  const int num_rows = rows.size();
  const int num_cols = column_labels.size();
  if (num_rows == 0 || num_cols == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("heat map ", png_path, ": no rows or no columns"));
  }
  if (row_labels.size() != rows.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("heat map ", png_path, ": ", rows.size(), " rows but ",
                     row_labels.size(), " row labels"));
  }
  double lo = INFINITY, hi = -INFINITY;
  for (int r = 0; r < num_rows; ++r) {
    if (static_cast<int>(rows[r].size()) != num_cols) {
      return absl::InvalidArgumentError(absl::StrCat(
          "heat map ", png_path, ": row ", r, " has ", rows[r].size(),
          " values but there are ", num_cols, " column labels"));
    }
    for (double v : rows[r]) {
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "heat map ", png_path, ": row ", r, " has a non-finite value"));
      }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  const double span = hi > lo ? hi - lo : 1.0;

  const int cells = std::max(num_rows, num_cols);
  const int side = std::clamp(300 + 24 * cells, 800, 1600);
  std::lock_guard<std::mutex> lock(PlotMutex());
  ASSIGN_OR_RETURN(auto figure, Figure::Open(png_path, side + 100, side));
  plstream& pls = figure->pls();

  // Tick labels shrink with the number of cells; margins grow with the
  // longest label (a character is about 0.0135 of the page width at scale 1).
  const double scale = std::clamp(22.0 / cells, 0.45, 1.0);
  const double char_width = 0.0135 * scale;
  const double aspect = (side + 100.0) / side;
  const double left =
      std::min(0.45, 0.07 + char_width * LongestLabel(row_labels));
  const double bottom =
      std::min(0.45, 0.04 + char_width * aspect * LongestLabel(column_labels));
  const double right = 0.84, top = 0.88;
  pls.vpor(left, right, bottom, top);
  pls.wind(0, num_cols, 0, num_rows);
  for (int r = 0; r < num_rows; ++r) {
    const double y0 = num_rows - r - 1;
    for (int c = 0; c < num_cols; ++c) {
      pls.col1((rows[r][c] - lo) / span);
      FillRect(pls, c, c + 1, y0, y0 + 1);
    }
  }
  if (cells <= options.annotate_up_to) {
    pls.schr(0, 0.8 * scale);
    for (int r = 0; r < num_rows; ++r) {
      for (int c = 0; c < num_cols; ++c) {
        const double t = (rows[r][c] - lo) / span;
        pls.col0(t > 0.55 ? kWhite : kInk);
        char text[64];
        std::snprintf(text, sizeof(text), options.value_format.c_str(),
                      rows[r][c]);
        pls.ptex(c + 0.5, num_rows - r - 0.5, 1, 0, 0.5, Text(text).c_str());
      }
    }
  }
  pls.col0(kInk);
  pls.schr(0, scale);
  pls.box("bc", 0, 0, "bc", 0, 0);
  for (int r = 0; r < num_rows; ++r) {
    pls.mtex("lv", 0.5, (num_rows - r - 0.5) / num_rows, 1.0,
             Text(row_labels[r]).c_str());
  }
  for (int c = 0; c < num_cols; ++c) {
    pls.mtex("bv", 0.5, (c + 0.5) / num_cols, 1.0,
             Text(column_labels[c]).c_str());
  }
  pls.schr(0, 1.0);
  pls.mtex("t", 1.0, 0.5, 0.5, Text(options.x_label).c_str());
  pls.mtex("t", 3.0, 0.5, 0.5, Text(title).c_str());
  // The y label sits left of the row labels, whose width is in characters
  // of the smaller tick size.
  pls.mtex("l", 1.5 + 0.75 * scale * LongestLabel(row_labels), 0.5, 0.5,
           Text(options.y_label).c_str());

  // Colour bar: a strip of 64 shades with the value axis on its right.
  pls.vpor(0.88, 0.91, bottom, top);
  pls.wind(0, 1, lo, lo + span);
  constexpr int kShades = 64;
  for (int i = 0; i < kShades; ++i) {
    pls.col1((i + 0.5) / kShades);
    FillRect(pls, 0, 1, lo + span * i / kShades, lo + span * (i + 1) / kShades);
  }
  pls.col0(kInk);
  pls.schr(0, 0.8);
  pls.box("bc", 0, 0, "bcmstv", 0, 0);
  return figure->Finish();
}

absl::Status PlotBars(const std::string& png_path, const std::string& title,
                      const std::string& y_label,
                      const std::vector<std::string>& categories,
                      const std::vector<BarSeries>& series,
                      const LineOptions& options) {
  if (categories.empty() || series.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bar chart ", png_path, ": no categories or no series"));
  }
  double lo = 0, hi = 0;
  for (const BarSeries& s : series) {
    if (s.values.size() != categories.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bar chart ", png_path, ": series '", s.label, "' has ",
          s.values.size(), " values for ", categories.size(), " categories"));
    }
    for (double v : s.values) {
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("bar chart ", png_path, ": series '", s.label,
                         "' has a non-finite value"));
      }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  Range y = YRange(lo, hi, options);
  if (!options.y_min && lo >= 0) y.lo = 0;
  std::vector<LegendEntry> legend;
  for (size_t i = 0; i < series.size(); ++i) {
    if (!series[i].label.empty()) {
      legend.push_back({series[i].label, SeriesColour(i), Key::kBox});
    }
  }
  const int n = categories.size();
  const bool vertical_labels = LongestLabel(categories) * n > 70;
  std::lock_guard<std::mutex> lock(PlotMutex());
  ASSIGN_OR_RETURN(auto figure,
                   Figure::Open(png_path, std::max(1000, 24 * n + 300), 700));
  plstream& pls = figure->pls();
  const double bottom =
      vertical_labels
          ? std::min(0.45, 0.06 + 0.0135 * 1.43 * LongestLabel(categories))
          : 0.12;
  pls.vpor(0.1, legend.empty() ? 0.95 : 0.74, bottom, 0.9);
  pls.wind(-0.5, n - 0.5, y.lo, y.hi);
  pls.col0(kGrid);
  pls.box("", 0, 0, "g", 0, 0);
  const double group = 0.8, bar = group / series.size();
  for (size_t s = 0; s < series.size(); ++s) {
    for (int c = 0; c < n; ++c) {
      const double x0 = c - group / 2 + s * bar;
      const double v = std::clamp(series[s].values[c], y.lo, y.hi);
      const double base = std::clamp(0.0, y.lo, y.hi);
      pls.col0(SeriesColour(s));
      FillRect(pls, x0, x0 + bar, base, v);
    }
  }
  pls.col0(kInk);
  pls.box("bc", 0, 0, "bcnstv", 0, 0);
  for (int c = 0; c < n; ++c) {
    const double pos = (c + 0.5) / n;
    if (vertical_labels) {
      pls.mtex("bv", 0.5, pos, 1.0, Text(categories[c]).c_str());
    } else {
      pls.mtex("b", 1.5, pos, 0.5, Text(categories[c]).c_str());
    }
  }
  pls.mtex("l", 5.0, 0.5, 0.5, Text(y_label).c_str());
  pls.mtex("t", 2.0, 0.5, 0.5, Text(title).c_str());
  DrawLegend(pls, legend);
  return figure->Finish();
}

absl::Status PlotReliability(const std::string& png_path,
                             const std::string& title,
                             const std::vector<ReliabilityBar>& bins) {
  for (size_t i = 0; i < bins.size(); ++i) {
    const ReliabilityBar& b = bins[i];
    if (!(b.lower >= 0 && b.lower < b.upper && b.upper <= 1 &&
          b.accuracy >= 0 && b.accuracy <= 1 && b.mean_confidence >= 0 &&
          b.mean_confidence <= 1 && b.count >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reliability diagram ", png_path, ": bin ", i,
          " needs 0 <= lower < upper <= 1, accuracy and confidence in [0,1]"));
    }
  }
  std::lock_guard<std::mutex> lock(PlotMutex());
  ASSIGN_OR_RETURN(auto figure, Figure::Open(png_path, 900, 700));
  plstream& pls = figure->pls();
  DrawAxes(pls, Range{0, 1}, Range{0, 1}, title, "confidence", "accuracy",
           /*room_for_legend=*/true);
  for (const ReliabilityBar& b : bins) {
    if (b.count == 0) continue;
    pls.col0(SeriesColour(0));
    FillRect(pls, b.lower, b.upper, 0, b.accuracy);
    pls.col0(kGap);
    FillRect(pls, b.lower, b.upper, std::min(b.accuracy, b.mean_confidence),
             std::max(b.accuracy, b.mean_confidence));
    pls.col0(kInk);
    OutlineRect(pls, b.lower, b.upper, 0, b.accuracy);
  }
  pls.col0(kInk);
  pls.lsty(2);
  pls.width(2);
  const PLFLT diagonal[] = {0, 1};
  pls.line(2, diagonal, diagonal);
  pls.lsty(1);
  pls.width(1);
  DrawLegend(pls, {{"accuracy", SeriesColour(0), Key::kBox},
                   {"gap to confidence", kGap, Key::kBox},
                   {"perfect calibration", kInk, Key::kLine, 2}});
  return figure->Finish();
}

}  // namespace vit_moe
