#include "eval/seed_summary.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vit_moe::eval {
namespace {

using Metric =
    std::function<std::optional<double>(const EvaluationReport& report)>;

std::vector<std::pair<std::string, Metric>> HeadlineMetrics(
    const EvaluationReport& first) {
  std::vector<std::pair<std::string, Metric>> metrics = {
      {"top1_accuracy", [](const auto& r) { return r.top1_accuracy(); }},
      {"top5_accuracy", [](const auto& r) { return r.top5_accuracy(); }},
      {"nll", [](const auto& r) { return r.nll(); }},
      {"ece", [](const auto& r) { return r.calibration().ece(); }},
      {"ece_after_temperature_scaling",
       [](const auto& r) -> std::optional<double> {
         if (!r.has_calibration_scaled()) return std::nullopt;
         return r.calibration_scaled().ece();
       }},
      {"min_class_recall",
       [](const auto& r) -> std::optional<double> {
         if (r.per_class_size() == 0) return std::nullopt;
         double lowest = 1;
         for (const ClassMetrics& c : r.per_class()) {
           lowest = std::min(lowest, c.recall());
         }
         return lowest;
       }},
      {"aurc",
       [](const auto& r) -> std::optional<double> {
         if (r.risk_coverage_size() == 0) return std::nullopt;
         return r.aurc();
       }},
      {"risk_at_95",
       [](const auto& r) -> std::optional<double> {
         if (r.risk_coverage_size() == 0) return std::nullopt;
         return r.risk_at_95();
       }},
      {"mean_corruption_accuracy",
       [](const auto& r) -> std::optional<double> {
         if (r.corruptions_size() == 0) return std::nullopt;
         return r.mean_corruption_accuracy();
       }},
  };
  // The first report's conformal results name the rest; a report without
  // the same (score, alpha) drops the metric.
  for (const ConformalResult& c : first.conformal().results()) {
    const std::string key = absl::StrCat(c.score(), "_alpha_", c.alpha());
    auto find = [score = c.score(), alpha = c.alpha()](
                    const EvaluationReport& r) -> const ConformalResult* {
      for (const ConformalResult& x : r.conformal().results()) {
        if (x.score() == score && x.alpha() == alpha) return &x;
      }
      return nullptr;
    };
    metrics.push_back(
        {"coverage_" + key, [find](const auto& r) -> std::optional<double> {
           const ConformalResult* x = find(r);
           if (x == nullptr) return std::nullopt;
           return x->coverage();
         }});
    metrics.push_back({"mean_set_size_" + key,
                       [find](const auto& r) -> std::optional<double> {
                         const ConformalResult* x = find(r);
                         if (x == nullptr) return std::nullopt;
                         return x->mean_set_size();
                       }});
  }
  return metrics;
}

}  // namespace

absl::StatusOr<std::vector<MetricSpread>> SummariseSeeds(
    const std::vector<EvaluationReport>& reports,
    const std::vector<std::string>& paths) {
  if (reports.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a seed spread needs at least 2 reports, got ", reports.size()));
  }
  const EvaluationReport& first = reports.front();
  for (size_t i = 1; i < reports.size(); ++i) {
    const EvaluationReport& r = reports[i];
    if (r.split() != first.split() ||
        r.manifest_sha256() != first.manifest_sha256() ||
        r.num_images() != first.num_images()) {
      return absl::InvalidArgumentError(absl::StrCat(
          paths[i], " judged ", r.num_images(), " images of split '", r.split(),
          "' of manifest ", r.manifest_sha256(), ", but ", paths[0], " judged ",
          first.num_images(), " of '", first.split(), "' of ",
          first.manifest_sha256(),
          ": a seed spread compares models on the same images"));
    }
  }
  std::vector<MetricSpread> spreads;
  for (const auto& [name, metric] : HeadlineMetrics(first)) {
    MetricSpread s;
    s.name = name;
    for (const EvaluationReport& r : reports) {
      const std::optional<double> v = metric(r);
      if (!v.has_value()) break;
      s.values.push_back(*v);
    }
    if (s.values.size() != reports.size()) continue;
    const double n = s.values.size();
    for (double v : s.values) s.mean += v / n;
    double squares = 0;
    for (double v : s.values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / (n - 1));
    spreads.push_back(std::move(s));
  }
  return spreads;
}

std::string RenderSeedSummary(const std::vector<MetricSpread>& spreads,
                              const std::vector<std::string>& paths) {
  std::string md = absl::StrCat("Seed-to-seed spread over ", paths.size(),
                                " trainings (sample standard deviation):\n\n"
                                "| metric | mean | sd | min | max |");
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StrAppend(&md, " run ", i + 1, " |");
  }
  absl::StrAppend(&md, "\n|---|---:|---:|---:|---:|");
  for (size_t i = 0; i < paths.size(); ++i) absl::StrAppend(&md, "---:|");
  absl::StrAppend(&md, "\n");
  for (const MetricSpread& s : spreads) {
    const auto [low, high] =
        std::minmax_element(s.values.begin(), s.values.end());
    absl::StrAppend(&md, absl::StrFormat("| %s | %.4f | %.4f | %.4f | %.4f |",
                                         s.name, s.mean, s.sd, *low, *high));
    for (double v : s.values)
      absl::StrAppend(&md, absl::StrFormat(" %.4f |", v));
    absl::StrAppend(&md, "\n");
  }
  absl::StrAppend(&md, "\nRuns:\n\n");
  for (size_t i = 0; i < paths.size(); ++i) {
    absl::StrAppend(&md, i + 1, ". `", paths[i], "`\n");
  }
  return md;
}

}  // namespace vit_moe::eval
