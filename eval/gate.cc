#include "eval/gate.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/field_checker.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "eval/gate_baseline.h"

namespace vit_moe::eval {
namespace {

// Records "metric value < name limit" (or the passing form) for a lower
// bound; Upper() is the mirror image.
class Checker {
 public:
  explicit Checker(GateResult* result) : result_(result) {}

  void Lower(const std::string& metric, double value, const char* name,
             double limit) {
    Record(value >= limit,
           absl::StrFormat("%s %.4f %s %s %.4f", metric, value,
                           value >= limit ? ">=" : "<", name, limit));
  }
  void Upper(const std::string& metric, double value, const char* name,
             double limit) {
    Record(value <= limit,
           absl::StrFormat("%s %.4f %s %s %.4f", metric, value,
                           value <= limit ? "<=" : ">", name, limit));
  }
  void Equal(const std::string& metric, const std::string& value,
             const char* name, const std::string& wanted) {
    Record(value == wanted, absl::StrCat(metric, " \"", value, "\" ",
                                         value == wanted ? "==" : "!=", " ",
                                         name, " \"", wanted, "\""));
  }
  void AtLeast(const std::string& metric, int64_t value, const char* name,
               int64_t limit) {
    Record(value >= limit,
           absl::StrCat(metric, " ", value, value >= limit ? " >= " : " < ",
                        name, " ", limit));
  }
  void Fail(std::string line) { Record(false, std::move(line)); }
  void Missing(const std::string& metric, const char* name) {
    Record(false,
           absl::StrCat(metric, " is not in the report but ", name, " is set"));
  }

 private:
  void Record(bool ok, std::string line) {
    (ok ? result_->passes : result_->failures).push_back(std::move(line));
  }
  GateResult* result_;
};

// Every source of the report, judged by the thresholds' score.
void CheckOod(const EvaluationReport& report, const GateThresholds& t,
              Checker& check) {
  if (!t.has_min_ood_auroc() && !t.has_max_fpr_at_95()) return;
  bool found = false;
  for (const OodResult& r : report.ood().results()) {
    if (r.score() != t.ood_score()) continue;
    found = true;
    const std::string at = absl::StrCat("[", r.score(), ", ", r.source(), "]");
    if (t.has_min_ood_auroc()) {
      check.Lower("ood_auroc" + at, r.auroc(), "min_ood_auroc",
                  t.min_ood_auroc());
    }
    if (t.has_max_fpr_at_95()) {
      check.Upper("fpr_at_95" + at, r.fpr_at_95_tpr(), "max_fpr_at_95",
                  t.max_fpr_at_95());
    }
  }
  if (!found) {
    check.Missing(absl::StrCat("ood score \"", t.ood_score(), "\""),
                  t.has_min_ood_auroc() ? "min_ood_auroc" : "max_fpr_at_95");
  }
}

void CheckRobustness(const EvaluationReport& report, const GateThresholds& t,
                     Checker& check) {
  if (t.min_robust_accuracy_size() == 0) return;
  // A robust accuracy measured where gradients are masked proves nothing.
  for (const AdversarialMaskingCheck& c : report.adversarial().checks()) {
    if (!c.passed()) {
      check.Fail(absl::StrCat("gradient masking check ", c.check(), " failed (",
                              c.detail(),
                              "), so min_robust_accuracy cannot be judged"));
    }
  }
  for (const AdversarialFloor& f : t.min_robust_accuracy()) {
    const std::string metric =
        absl::StrFormat("robust_accuracy[%s, eps %.6g]", f.norm(), f.epsilon());
    const AdversarialRobustAccuracy* found = nullptr;
    for (const AdversarialRobustAccuracy& r : report.adversarial().robust()) {
      // Epsilons are written from the same text, but 8/255 may print
      // shorter in a hand-written threshold file.
      if (r.norm() == f.norm() && std::abs(r.epsilon() - f.epsilon()) < 1e-6) {
        found = &r;
      }
    }
    if (found == nullptr) {
      check.Missing(metric, "min_robust_accuracy");
    } else {
      check.Lower(metric, found->accuracy(), "min_robust_accuracy",
                  f.min_accuracy());
    }
  }
}

}  // namespace

absl::Status ValidateThresholds(const GateThresholds& t,
                                const std::string& path) {
  FieldChecker check("", path);
  const std::pair<const char*, std::pair<bool, double>> shares[] = {
      {"min_top1_accuracy", {t.has_min_top1_accuracy(), t.min_top1_accuracy()}},
      {"max_ece", {t.has_max_ece(), t.max_ece()}},
      {"min_mean_corruption_accuracy",
       {t.has_min_mean_corruption_accuracy(),
        t.min_mean_corruption_accuracy()}},
      {"min_class_recall", {t.has_min_class_recall(), t.min_class_recall()}},
      {"max_risk_at_95", {t.has_max_risk_at_95(), t.max_risk_at_95()}},
  };
  for (const auto& [field, value] : shares) {
    if (value.first) check.InRange(value.second, 0, 1, field);
  }
  if (t.has_max_batch1_p95_ms()) {
    check.Positive(t.max_batch1_p95_ms(), "max_batch1_p95_ms");
  }
  if (t.has_min_images()) check.AtLeast(t.min_images(), 1, "min_images");
  if (t.has_min_ood_auroc()) {
    check.InRange(t.min_ood_auroc(), 0, 1, "min_ood_auroc");
  }
  if (t.has_max_fpr_at_95()) {
    check.InRange(t.max_fpr_at_95(), 0, 1, "max_fpr_at_95");
  }
  if (t.has_min_ood_auroc() || t.has_max_fpr_at_95() || t.has_ood_score()) {
    check.RequireSet(t.ood_score(), "ood_score");
    const char* const kScores[] = {
        "msp", "max_logit", "energy", "mahalanobis", "knn", "router_entropy"};
    if (!t.ood_score().empty() &&
        std::find(std::begin(kScores), std::end(kScores), t.ood_score()) ==
            std::end(kScores)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ood_score \"", t.ood_score(),
          "\" is none of msp, max_logit, energy, mahalanobis, knn, "
          "router_entropy"));
    }
  }
  for (int i = 0; i < t.min_robust_accuracy_size(); ++i) {
    const AdversarialFloor& f = t.min_robust_accuracy(i);
    const std::string field = absl::StrCat("min_robust_accuracy[", i, "]");
    if (f.norm() != "linf" && f.norm() != "l2") {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", field, ".norm must be \"linf\" or \"l2\", not \"",
          f.norm(), "\""));
    }
    check.AtLeast(f.epsilon(), 0.0, field + ".epsilon");
    check.InRange(f.min_accuracy(), 0, 1, field + ".min_accuracy");
  }
  if (t.has_split()) check.RequireSet(t.split(), "split");
  if (t.has_baseline_max_drop()) {
    check.InRange(t.baseline_max_drop(), 0, 1, "baseline_max_drop");
  }
  if (t.has_baseline_significance()) {
    check.Require(
        t.baseline_significance() > 0 && t.baseline_significance() < 1,
        "baseline_significance", "must be in (0, 1)",
        absl::StrCat(t.baseline_significance()));
  }
  check.Require(t.has_baseline_max_drop() == t.has_baseline_significance(),
                "baseline_max_drop",
                "and baseline_significance must be set together",
                t.has_baseline_max_drop() ? "only baseline_max_drop"
                                          : "only baseline_significance");
  RETURN_IF_ERROR(check.status());
  if (!t.has_min_top1_accuracy() && !t.has_max_ece() &&
      !t.has_min_mean_corruption_accuracy() && !t.has_min_class_recall() &&
      !t.has_max_risk_at_95() && !t.has_max_batch1_p95_ms() &&
      !t.has_baseline_max_drop() && !t.has_min_ood_auroc() &&
      !t.has_max_fpr_at_95() && t.min_robust_accuracy_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": sets no threshold, so the gate would check nothing"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GateThresholds> ReadThresholds(const std::string& path) {
  GateThresholds thresholds;
  RETURN_IF_ERROR(ReadTextProto(path, &thresholds));
  RETURN_IF_ERROR(ValidateThresholds(thresholds, path));
  return thresholds;
}

absl::StatusOr<EvaluationReport> ReadReport(const std::string& path) {
  EvaluationReport report;
  if (absl::EndsWith(path, ".pb")) {
    RETURN_IF_ERROR(ReadBinaryProto(path, &report));
  } else {
    RETURN_IF_ERROR(ReadTextProto(path, &report));
  }
  // An empty or foreign file parses as a report of nothing; judging it
  // would fail or pass on zeros.
  if (report.split().empty() || report.num_images() <= 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": not an evaluation report (no split or no images judged)"));
  }
  return report;
}

GateResult CheckGate(const EvaluationReport& report, const GateThresholds& t,
                     const EvaluationReport* baseline) {
  GateResult result;
  Checker check(&result);
  if (t.has_split()) check.Equal("split", report.split(), "split", t.split());
  if (t.has_min_images()) {
    check.AtLeast("num_images", report.num_images(), "min_images",
                  t.min_images());
  }
  if (t.has_min_top1_accuracy()) {
    check.Lower("top1_accuracy", report.top1_accuracy(), "min_top1_accuracy",
                t.min_top1_accuracy());
  }
  if (t.has_max_ece()) {
    if (report.has_calibration_scaled()) {
      check.Upper("ece_after_temperature_scaling",
                  report.calibration_scaled().ece(), "max_ece", t.max_ece());
    } else {
      check.Missing("ece_after_temperature_scaling", "max_ece");
    }
  }
  if (t.has_min_mean_corruption_accuracy()) {
    if (report.corruptions_size() > 0) {
      check.Lower("mean_corruption_accuracy", report.mean_corruption_accuracy(),
                  "min_mean_corruption_accuracy",
                  t.min_mean_corruption_accuracy());
    } else {
      check.Missing("mean_corruption_accuracy", "min_mean_corruption_accuracy");
    }
  }
  if (t.has_min_class_recall()) {
    if (report.per_class_size() == 0) {
      check.Missing("class_recall", "min_class_recall");
    }
    // One line per class below the floor: the class is what needs fixing.
    for (const ClassMetrics& c : report.per_class()) {
      check.Lower(absl::StrCat("class_recall[", c.name(), "]"), c.recall(),
                  "min_class_recall", t.min_class_recall());
    }
  }
  if (t.has_max_risk_at_95()) {
    if (report.risk_coverage_size() > 0) {
      check.Upper("risk_at_95", report.risk_at_95(), "max_risk_at_95",
                  t.max_risk_at_95());
    } else {
      check.Missing("risk_at_95", "max_risk_at_95");
    }
  }
  if (t.has_max_batch1_p95_ms()) {
    if (report.has_latency()) {
      check.Upper("batch1_p95_ms", report.latency().batch1_p95_ms(),
                  "max_batch1_p95_ms", t.max_batch1_p95_ms());
    } else {
      check.Missing("batch1_p95_ms", "max_batch1_p95_ms");
    }
  }
  CheckBaseline(report, baseline, t, &result);
  CheckOod(report, t, check);
  CheckRobustness(report, t, check);
  return result;
}

}  // namespace vit_moe::eval
