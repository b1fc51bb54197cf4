#include "eval/predict_sets.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/predict_answer.h"
#include "eval/statistics.h"

namespace vit_moe::eval {
namespace {

absl::Status NeedConformal(const EvaluationReport& report,
                           const std::string& report_path,
                           absl::string_view flag) {
  if (report.has_conformal()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(report_path,
                   " has no conformal section (evaluated with "
                   "--conformal_alphas empty, or by an older "
                   "//eval:evaluate), which ",
                   flag, " needs; evaluate the model again"));
}

}  // namespace

absl::StatusOr<SetRule> ReportSetRule(const EvaluationReport& report,
                                      const std::string& report_path,
                                      ConformalScore score, double alpha) {
  if (absl::Status s = NeedConformal(report, report_path, "--alpha"); !s.ok()) {
    return s;
  }
  SetRule rule;
  rule.score = score;
  rule.raps.k_reg = report.conformal().raps_k_reg();
  rule.raps.lambda = report.conformal().raps_lambda();
  std::vector<std::string> alphas;
  for (const ConformalResult& r : report.conformal().results()) {
    if (r.score() != ConformalScoreName(score)) continue;
    if (std::abs(r.alpha() - alpha) < 1e-12) {
      rule.result = r;
      return rule;
    }
    alphas.push_back(absl::StrCat(r.alpha()));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      report_path, " has no ", ConformalScoreName(score), " sets at alpha ",
      alpha, " (it has ", alphas.empty() ? "none" : absl::StrJoin(alphas, ", "),
      "); evaluate with --conformal_alphas including it"));
}

std::string DescribeSetRule(const SetRule& rule, const EvaluationReport& report,
                            const std::string& report_path) {
  const ConformalResult& r = rule.result;
  const ConformalReport& c = report.conformal();
  return absl::StrFormat(
      "--alpha=%g %s sets: threshold %.6g fitted on %d calibration images of "
      "%s; coverage of new exchangeable images follows a law with mean "
      "%.4f, %.0f%% interval [%.4f, %.4f]; on its %d conformal test images: "
      "coverage %.4f, mean set size %.3f",
      r.alpha(), r.score(), r.threshold(), c.calibration_images(), report_path,
      r.law_mean(), 100 * c.law_level(), r.law_interval().low(),
      r.law_interval().high(), c.test_images(), r.coverage(),
      r.mean_set_size());
}

std::vector<std::vector<ClassScore>> SetMembers(
    const torch::Tensor& probabilities, const SetRule& rule,
    const std::vector<std::string>& names) {
  const torch::Tensor in_set = PredictionSets(
      probabilities, rule.score, rule.raps, rule.result.threshold());
  std::vector<std::vector<ClassScore>> ranked =
      TopClasses(probabilities, names, probabilities.size(1));
  std::vector<std::vector<ClassScore>> sets(ranked.size());
  for (size_t b = 0; b < ranked.size(); ++b) {
    for (ClassScore& s : ranked[b]) {
      if (in_set[b][s.label].item<bool>()) sets[b].push_back(std::move(s));
    }
  }
  return sets;
}

absl::StatusOr<double> ParseOpenUnitFlag(absl::string_view flag,
                                         absl::string_view value) {
  double v = 0;
  if (!absl::SimpleAtod(value, &v) || !(v > 0) || !(v < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", value,
                     ": expected a number strictly between 0 and 1"));
  }
  return v;
}

absl::StatusOr<RiskControlledAbstention> ReportRiskControl(
    const EvaluationReport& report, const std::string& report_path,
    double max_risk, double delta) {
  if (absl::Status s = NeedConformal(report, report_path, "--max_risk");
      !s.ok()) {
    return s;
  }
  const ScaledConfidences& calibration =
      report.conformal().calibration_confidences();
  bool ordered = calibration.confidence_size() == calibration.correct_size();
  for (int i = 1; ordered && i < calibration.confidence_size(); ++i) {
    ordered = calibration.confidence(i) <= calibration.confidence(i - 1);
  }
  if (!ordered || calibration.confidence_size() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        report_path,
        ": conformal.calibration_confidences must hold one outcome per "
        "confidence, most confident first, and at least one image"));
  }
  return ChooseAbstentionThreshold(calibration, max_risk, delta);
}

std::string DescribeRiskControl(const RiskControlledAbstention& choice,
                                double max_risk, double delta,
                                const EvaluationReport& report,
                                const std::string& report_path) {
  std::string line = absl::StrFormat(
      "--max_risk=%g --delta=%g on the %d calibration images of %s (Learn "
      "then Test, binomial tests): ",
      max_risk, delta, choice.calibration_images, report_path);
  if (!choice.found) {
    absl::StrAppend(&line,
                    "no threshold is certified, so every image is answered "
                    "abstain");
    return line;
  }
  const ProportionInterval expected =
      WilsonInterval(choice.answered, choice.calibration_images, 0.95);
  absl::StrAppendFormat(
      &line,
      "answer at confidence >= %.6g; expected coverage %.4f (95%% Wilson "
      "[%.4f, %.4f]; %d answered, %d wrong, risk bound %.4f)",
      choice.threshold, choice.expected_coverage(), expected.low, expected.high,
      choice.answered, choice.errors, choice.risk_bound);
  const Abstention test =
      CountAbstention(report.conformal().test_confidences(), choice.threshold);
  if (test.images > 0) {
    absl::StrAppendFormat(&line,
                          "; on the %d conformal test images: coverage %.4f, "
                          "risk %.4f (%d wrong of %d answered)",
                          test.images, test.coverage(), test.risk(),
                          test.errors, test.kept);
  }
  return line;
}

}  // namespace vit_moe::eval
