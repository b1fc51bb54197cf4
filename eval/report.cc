#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/atomic_file.h"
#include "common/plot.h"
#include "common/status_macros.h"
#include "eval/coverage_markdown.h"
#include "eval/report_ood_adversarial.h"

namespace vit_moe::eval {
namespace {

int NumClasses(const EvaluationReport& r) { return r.per_class_size(); }

std::vector<std::string> ClassNames(const EvaluationReport& r) {
  std::vector<std::string> names;
  for (const ClassMetrics& c : r.per_class()) names.push_back(c.name());
  return names;
}

int NumExperts(const LayerUtilisation& u) { return u.share_size(); }

bool HasClassFigure(const EvaluationReport& r, const LayerUtilisation& u) {
  return NumClasses(r) > 0 &&
         u.per_class_share_size() == NumClasses(r) * NumExperts(u);
}

std::string LayerFigure(int layer) {
  return absl::StrCat("experts_by_class_layer_", layer, ".png");
}

// Corruption name -> accuracy per severity (index severity - 1; NaN where a
// severity is missing), in first-seen order.
std::vector<std::pair<std::string, std::vector<double>>> CorruptionTable(
    const EvaluationReport& r) {
  std::vector<std::pair<std::string, std::vector<double>>> table;
  std::map<std::string, size_t> row_of;
  int max_severity = 0;
  for (const CorruptionResult& c : r.corruptions()) {
    max_severity = std::max(max_severity, c.severity());
  }
  for (const CorruptionResult& c : r.corruptions()) {
    auto [it, inserted] = row_of.emplace(c.corruption(), table.size());
    if (inserted) {
      table.push_back(
          {c.corruption(), std::vector<double>(max_severity, std::nan(""))});
    }
    if (c.severity() >= 1) {
      table[it->second].second[c.severity() - 1] = c.accuracy();
    }
  }
  return table;
}

std::string Cell(const std::string& s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}});
}

std::string Percent(double v) { return absl::StrFormat("%.2f%%", 100 * v); }

std::vector<ReliabilityBar> Bars(const Calibration& c) {
  std::vector<ReliabilityBar> bars;
  for (const ReliabilityBin& b : c.bins()) {
    bars.push_back(
        {b.lower(), b.upper(), b.accuracy(), b.mean_confidence(), b.count()});
  }
  return bars;
}

void Headline(const EvaluationReport& r, std::string* md) {
  absl::StrAppend(md, "| metric | value |\n|---|---|\n");
  auto row = [&](const std::string& name, const std::string& value) {
    absl::StrAppend(md, "| ", name, " | ", value, " |\n");
  };
  const bool ci = r.has_intervals();
  const IntervalStatistics& intervals = r.intervals();
  row("top-1 accuracy",
      absl::StrCat(Percent(r.top1_accuracy()),
                   IntervalSuffix(intervals.top1_accuracy(), ci, true)));
  row("top-5 accuracy", Percent(r.top5_accuracy()));
  row("NLL (nats)", absl::StrFormat("%.4f", r.nll()));
  row("ECE (15 bins)",
      absl::StrCat(absl::StrFormat("%.4f", r.calibration().ece()),
                   IntervalSuffix(intervals.ece(), ci, false)));
  if (r.has_calibration_scaled()) {
    row(absl::StrFormat("ECE after temperature scaling (T = %.3f)",
                        r.temperature()),
        absl::StrCat(absl::StrFormat("%.4f", r.calibration_scaled().ece()),
                     IntervalSuffix(intervals.ece_scaled(),
                                    ci && intervals.has_ece_scaled(), false)));
    row("NLL after temperature scaling",
        absl::StrFormat("%.4f", r.calibration_scaled().nll()));
  }
  if (r.risk_coverage_size() > 0) {
    row("AURC", absl::StrFormat("%.4f", r.aurc()));
    row("error at 99% / 95% / 90% coverage",
        absl::StrCat(Percent(r.risk_at_99()), " / ", Percent(r.risk_at_95()),
                     " / ", Percent(r.risk_at_90())));
  }
  if (r.corruptions_size() > 0) {
    row("mean corruption accuracy",
        absl::StrCat(Percent(r.mean_corruption_accuracy()), " (clean ",
                     Percent(r.corruption_clean_accuracy()), " on the same ",
                     r.corruption_images(), " images)"));
  }
  if (r.has_latency()) {
    row("batch-1 latency p50 / p95",
        absl::StrFormat("%.2f / %.2f ms", r.latency().batch1_p50_ms(),
                        r.latency().batch1_p95_ms()));
    row(absl::StrCat("throughput at batch ", r.latency().batch_size()),
        absl::StrFormat("%.1f images/s", r.latency().images_per_second()));
  }
}

}  // namespace

std::string RenderMarkdown(const EvaluationReport& r,
                           const std::string& figures) {
  std::string md = absl::StrCat(
      "# Evaluation report: ", r.dataset().empty() ? "model" : r.dataset(),
      ", ", r.split(), " split\n\n");
  absl::StrAppend(&md, "- images evaluated: ", r.num_images(), "\n");
  if (!r.checkpoint_path().empty()) {
    absl::StrAppend(&md, "- model: `", r.checkpoint_path(), "` (",
                    r.trainable_parameters(), " trainable parameters)\n");
  }
  absl::StrAppend(&md, "- model SHA-256: `", r.checkpoint_sha256(), "`\n",
                  "- manifest SHA-256: `", r.manifest_sha256(), "`\n",
                  "- normalization SHA-256: `", r.normalization_sha256(),
                  "`\n\n## Summary\n\n");
  if (r.has_intervals()) {
    absl::StrAppend(
        &md,
        absl::StrFormat("Brackets: %.0f%% confidence intervals (Wilson for "
                        "shares, a %d-resample bootstrap with seed %d for "
                        "ECE).\n\n",
                        100 * r.intervals().level(),
                        r.intervals().bootstrap_resamples(),
                        r.intervals().bootstrap_seed()));
  }
  Headline(r, &md);

  if (NumClasses(r) > 0) {
    absl::StrAppend(&md,
                    "\n## Per-class metrics\n\n"
                    "| class | support | precision | recall | F1 |\n"
                    "|---|---:|---:|---:|---:|\n");
    for (int i = 0; i < NumClasses(r); ++i) {
      const ClassMetrics& c = r.per_class(i);
      const bool ci = i < r.intervals().class_recall_size();
      absl::StrAppend(
          &md, absl::StrFormat("| %s | %d | %.4f | %.4f%s | %.4f |\n",
                               Cell(c.name()), c.support(), c.precision(),
                               c.recall(),
                               IntervalSuffix(ci ? r.intervals().class_recall(i)
                                                 : IntervalEstimate(),
                                              ci, false),
                               c.f1()));
    }
    absl::StrAppend(&md, "\n![per-class metrics](", figures,
                    "/per_class.png)\n\n### Confusion matrix\n\n"
                    "Rows are true classes, columns predicted classes.\n\n"
                    "![confusion matrix](",
                    figures, "/confusion.png)\n");
  }

  absl::StrAppend(&md,
                  "\n## Calibration\n\nExpected calibration error over 15 "
                  "equal-width confidence bins.\n\n![reliability](",
                  figures, "/reliability.png)\n");
  if (r.has_calibration_scaled()) {
    absl::StrAppend(
        &md,
        absl::StrFormat("\nAfter temperature scaling (T = %.4f, fitted by "
                        "minimising NLL on %d validation images):\n\n",
                        r.temperature(), r.temperature_fit_images()),
        "![reliability after scaling](", figures, "/reliability_scaled.png)\n");
  }

  if (r.risk_coverage_size() > 0) {
    absl::StrAppend(
        &md,
        "\n## Selective prediction\n\nRejecting the least confident images "
        "first (confidence = top softmax probability). ",
        absl::StrFormat("AURC %.4f; a random ranking would give about the "
                        "error rate, %.4f.\n\n",
                        r.aurc(), 1 - r.top1_accuracy()),
        "![risk-coverage](", figures, "/risk_coverage.png)\n");
  }

  absl::StrAppend(&md, RenderConformalMarkdown(r));

  const auto table = CorruptionTable(r);
  if (!table.empty()) {
    const int severities = table.front().second.size();
    absl::StrAppend(&md, "\n## Robustness\n\n",
                    absl::StrFormat("Top-1 accuracy on the first %d images "
                                    "(clean: %s), corruption seed %d.\n\n",
                                    r.corruption_images(),
                                    Percent(r.corruption_clean_accuracy()),
                                    r.corruption_seed()),
                    "| corruption |");
    for (int s = 1; s <= severities; ++s) absl::StrAppend(&md, " ", s, " |");
    absl::StrAppend(&md, " mean |\n|---|");
    for (int s = 0; s <= severities; ++s) absl::StrAppend(&md, "---:|");
    absl::StrAppend(&md, "\n");
    for (const auto& [name, accuracy] : table) {
      absl::StrAppend(&md, "| ", Cell(name), " |");
      double sum = 0;
      int n = 0;
      for (double a : accuracy) {
        absl::StrAppend(&md, " ", std::isnan(a) ? "-" : Percent(a), " |");
        if (!std::isnan(a)) {
          sum += a;
          ++n;
        }
      }
      absl::StrAppend(&md, " ", n > 0 ? Percent(sum / n) : "-", " |\n");
    }
    absl::StrAppend(&md, "\nMean over all corruptions and severities: ",
                    Percent(r.mean_corruption_accuracy()),
                    ".\n\n![accuracy per severity](", figures,
                    "/corruptions.png)\n");
  }

  if (r.utilisation_size() > 0) {
    absl::StrAppend(&md,
                    "\n## Expert utilisation\n\nShare of routed token slots "
                    "per expert in each MoE layer (uniform = ",
                    absl::StrFormat("%.3f", 1.0 / NumExperts(r.utilisation(0))),
                    ").\n\n![expert share](", figures, "/expert_share.png)\n\n",
                    "Per class, share of each class's token slots:\n\n");
    for (const LayerUtilisation& u : r.utilisation()) {
      if (!HasClassFigure(r, u)) continue;
      absl::StrAppend(&md, "- layer ", u.layer(), ": ![layer ", u.layer(), "](",
                      figures, "/", LayerFigure(u.layer()), ")\n");
    }
  }

  if (r.has_latency()) {
    const Latency& l = r.latency();
    absl::StrAppend(
        &md, "\n## Latency\n\n",
        absl::StrFormat(
            "On %s with %d threads: batch-1 forward p50 %.2f ms, p95 %.2f ms; "
            "batch %d: %.1f images/s.\n",
            l.device(), l.threads(), l.batch1_p50_ms(), l.batch1_p95_ms(),
            l.batch_size(), l.images_per_second()));
  }
  AppendOodAndAdversarialMarkdown(r, figures, &md);
  return md;
}

absl::StatusOr<std::vector<std::string>> WriteReport(
    const EvaluationReport& r, const std::string& out_dir) {
  const std::string figures = out_dir + "/figures";
  std::vector<std::string> written = {out_dir + "/report.md"};
  auto path = [&](const std::string& name) {
    written.push_back(figures + "/" + name);
    return written.back();
  };

  const int c = NumClasses(r);
  const std::vector<std::string> names = ClassNames(r);
  if (c > 0 && r.confusion_size() == c * c) {
    std::vector<std::vector<double>> rows(c, std::vector<double>(c));
    for (int i = 0; i < c * c; ++i) rows[i / c][i % c] = r.confusion(i);
    HeatmapOptions options;
    options.x_label = "predicted class";
    options.y_label = "true class";
    options.value_format = "%.0f";
    RETURN_IF_ERROR(PlotHeatmap(path("confusion.png"), "Confusion matrix", rows,
                                names, names, options));
  }
  if (c > 0) {
    BarSeries precision{"precision", {}}, recall{"recall", {}}, f1{"F1", {}};
    for (const ClassMetrics& m : r.per_class()) {
      precision.values.push_back(m.precision());
      recall.values.push_back(m.recall());
      f1.values.push_back(m.f1());
    }
    LineOptions unit;
    unit.y_min = 0;
    unit.y_max = 1;
    RETURN_IF_ERROR(PlotBars(path("per_class.png"), "Per-class metrics",
                             "share", names, {precision, recall, f1}, unit));
  }
  RETURN_IF_ERROR(PlotReliability(
      path("reliability.png"),
      absl::StrFormat("Reliability, ECE %.4f", r.calibration().ece()),
      Bars(r.calibration())));
  if (r.has_calibration_scaled()) {
    RETURN_IF_ERROR(PlotReliability(
        path("reliability_scaled.png"),
        absl::StrFormat("Reliability after temperature scaling (T = %.3f), "
                        "ECE %.4f",
                        r.temperature(), r.calibration_scaled().ece()),
        Bars(r.calibration_scaled())));
  }
  if (r.risk_coverage_size() > 0) {
    Series curve{"selective risk", {}, {}};
    for (const RiskCoveragePoint& p : r.risk_coverage()) {
      curve.x.push_back(p.coverage());
      curve.y.push_back(p.risk());
    }
    const double error = 1 - r.top1_accuracy();
    Series random{"random ranking", {0, 1}, {error, error}};
    LineOptions from_zero;
    from_zero.y_min = 0;
    RETURN_IF_ERROR(PlotLines(
        path("risk_coverage.png"),
        absl::StrFormat("Risk-coverage, AURC %.4f", r.aurc()), "coverage",
        "error among kept images", {curve, random}, from_zero));
  }
  const auto table = CorruptionTable(r);
  if (!table.empty()) {
    std::vector<Series> lines;
    for (const auto& [name, accuracy] : table) {
      Series s{name, {0}, {r.corruption_clean_accuracy()}};
      for (size_t i = 0; i < accuracy.size(); ++i) {
        s.x.push_back(i + 1);
        s.y.push_back(accuracy[i]);
      }
      lines.push_back(std::move(s));
    }
    LineOptions unit;
    unit.y_min = 0;
    unit.y_max = 1;
    unit.markers = true;
    RETURN_IF_ERROR(PlotLines(path("corruptions.png"),
                              "Accuracy under corruption (0 = clean)",
                              "severity", "top-1 accuracy", lines, unit));
  }
  if (r.utilisation_size() > 0) {
    const int experts = NumExperts(r.utilisation(0));
    std::vector<std::string> expert_names, layer_names;
    for (int e = 0; e < experts; ++e) expert_names.push_back(absl::StrCat(e));
    std::vector<std::vector<double>> share;
    for (const LayerUtilisation& u : r.utilisation()) {
      share.emplace_back(u.share().begin(), u.share().end());
      layer_names.push_back(absl::StrCat("layer ", u.layer()));
    }
    HeatmapOptions options;
    options.x_label = "expert";
    options.y_label = "MoE layer";
    RETURN_IF_ERROR(PlotHeatmap(path("expert_share.png"),
                                "Share of token slots per expert", share,
                                layer_names, expert_names, options));
    options.y_label = "true class";
    for (const LayerUtilisation& u : r.utilisation()) {
      if (!HasClassFigure(r, u)) continue;
      std::vector<std::vector<double>> rows(c);
      for (int i = 0; i < c; ++i) {
        rows[i].assign(u.per_class_share().begin() + i * experts,
                       u.per_class_share().begin() + (i + 1) * experts);
      }
      RETURN_IF_ERROR(PlotHeatmap(
          path(LayerFigure(u.layer())),
          absl::StrCat("Expert share per class, MoE layer ", u.layer()), rows,
          names, expert_names, options));
    }
  }
  RETURN_IF_ERROR(PlotOodAndAdversarial(r, figures, &written));
  RETURN_IF_ERROR(
      WriteFileAtomically(written.front(), RenderMarkdown(r, "figures")));
  return written;
}

}  // namespace vit_moe::eval
