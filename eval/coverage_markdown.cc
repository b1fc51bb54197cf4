#include "eval/coverage_markdown.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace vit_moe::eval {
namespace {

std::string Percent(double v) { return absl::StrFormat("%.2f%%", 100 * v); }

std::string Share(int64_t part, int64_t whole) {
  return whole > 0 ? Percent(static_cast<double>(part) / whole) : "-";
}

std::string ClassName(const EvaluationReport& r, int c) {
  const std::string name = c < r.per_class_size() ? r.per_class(c).name()
                                                  : absl::StrCat("class ", c);
  return absl::StrReplaceAll(name, {{"|", "\\|"}});
}

// The class with the lowest coverage among those with test images.
int WorstClass(const ConformalResult& result) {
  int worst = -1;
  double lowest = std::numeric_limits<double>::infinity();
  for (int c = 0; c < result.class_images_size(); ++c) {
    if (result.class_images(c) == 0) continue;
    const double coverage =
        static_cast<double>(result.class_covered(c)) / result.class_images(c);
    if (coverage < lowest) {
      lowest = coverage;
      worst = c;
    }
  }
  return worst;
}

std::string SetSizes(const ConformalResult& result) {
  std::vector<std::string> parts;
  for (int s = 0; s < result.set_size_images_size(); ++s) {
    if (result.set_size_images(s) == 0) continue;
    parts.push_back(absl::StrCat(
        s, ": ", result.set_size_images(s), " (",
        Share(result.set_size_covered(s), result.set_size_images(s)), ")"));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

std::string IntervalSuffix(const IntervalEstimate& interval, bool present,
                           bool percent) {
  if (!present) return "";
  if (percent) {
    return absl::StrFormat(" [%.2f, %.2f]%%", 100 * interval.low(),
                           100 * interval.high());
  }
  return absl::StrFormat(" [%.4f, %.4f]", interval.low(), interval.high());
}

std::string RenderConformalMarkdown(const EvaluationReport& r) {
  if (!r.has_conformal() || r.conformal().results_size() == 0) return "";
  const ConformalReport& c = r.conformal();
  const double level = r.intervals().level();
  std::string md = absl::StrCat(
      "\n## Prediction sets (split conformal)\n\n",
      absl::StrFormat(
          "A seeded permutation (seed %d) of the %d %s images gives %d to "
          "calibrate each threshold and %d to measure coverage; the "
          "probabilities are softmax(logits / %.4f), the temperature fitted "
          "on another split, so the calibration images took part neither in "
          "it nor in choosing the model. Scores are not randomised; RAPS "
          "uses k_reg %d, lambda %g. Given exchangeable images, the coverage "
          "of sets fitted on n calibration images follows Beta(n + 1 - l, "
          "l), l = floor((n + 1) alpha): the law column gives its central "
          "%.0f%% interval; the measured coverage carries a %.0f%% Wilson "
          "interval for its %d test images.\n\n",
          c.seed(), r.num_images(), r.split(), c.calibration_images(),
          c.test_images(), c.temperature(), c.raps_k_reg(), c.raps_lambda(),
          100 * c.law_level(), 100 * level, c.test_images()),
      "| score | alpha | coverage | law of coverage | mean set size | worst "
      "class | images (coverage) per set size |\n"
      "|---|---:|---:|---:|---:|---|---|\n");
  for (const ConformalResult& result : c.results()) {
    const int worst = WorstClass(result);
    absl::StrAppend(
        &md, "| ", result.score(), " | ", result.alpha(), " | ",
        Percent(result.coverage()),
        IntervalSuffix(result.coverage_wilson(), true, true), " | ",
        absl::StrFormat("%.2f%% [%.2f, %.2f]%%", 100 * result.law_mean(),
                        100 * result.law_interval().low(),
                        100 * result.law_interval().high()),
        " | ", absl::StrFormat("%.3f", result.mean_set_size()), " | ",
        worst < 0 ? "-"
                  : absl::StrCat(ClassName(r, worst), " ",
                                 Share(result.class_covered(worst),
                                       result.class_images(worst))),
        " | ", SetSizes(result), " |\n");
  }
  // Coverage per class: one column per (score, alpha).
  const int classes = c.results(0).class_images_size();
  absl::StrAppend(&md, "\nCoverage per class:\n\n| class | images |");
  for (const ConformalResult& result : c.results()) {
    absl::StrAppend(&md, " ", result.score(), " ", result.alpha(), " |");
  }
  absl::StrAppend(&md, "\n|---|---:|");
  for (int i = 0; i < c.results_size(); ++i) absl::StrAppend(&md, "---:|");
  absl::StrAppend(&md, "\n");
  for (int k = 0; k < classes; ++k) {
    absl::StrAppend(&md, "| ", ClassName(r, k), " | ",
                    c.results(0).class_images(k), " |");
    for (const ConformalResult& result : c.results()) {
      absl::StrAppend(
          &md, " ",
          k < result.class_images_size()
              ? Share(result.class_covered(k), result.class_images(k))
              : "-",
          " |");
    }
    absl::StrAppend(&md, "\n");
  }
  return md;
}

}  // namespace vit_moe::eval
