// //eval:predict's guarantees, read from an EvaluationReport's conformal
// section: the prediction set of each image at --alpha (the threshold the
// evaluation fitted on its calibration images), and --max_risk's
// abstention threshold chosen on the same calibration images (Learn then
// Test, eval/risk_control.h) and checked on the conformal test images.
#ifndef VIT_MOE_EVAL_PREDICT_SETS_H_
#define VIT_MOE_EVAL_PREDICT_SETS_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/conformal.h"
#include "eval/evaluation.pb.h"
#include "eval/predict.h"
#include "eval/risk_control.h"

namespace vit_moe::eval {

struct SetRule {
  ConformalScore score = ConformalScore::kLac;
  RapsSettings raps;
  // The report's result for this score and alpha.
  ConformalResult result;
};

// FailedPrecondition naming `report_path` when the report has no conformal
// section, or none for `score` at `alpha` (listing the alphas it has:
// evaluate with --conformal_alphas to add one).
absl::StatusOr<SetRule> ReportSetRule(const EvaluationReport& report,
                                      const std::string& report_path,
                                      ConformalScore score, double alpha);

// What the sets promise, one line: the calibration size, the law of
// coverage and what the sets did on the conformal test images.
std::string DescribeSetRule(const SetRule& rule, const EvaluationReport& report,
                            const std::string& report_path);

// The classes of each image's set, most probable first (possibly none).
// `probabilities` [B, C] at the report's temperature.
std::vector<std::vector<ClassScore>> SetMembers(
    const torch::Tensor& probabilities, const SetRule& rule,
    const std::vector<std::string>& names);

// --max_risk / --delta, each strictly between 0 and 1: InvalidArgument
// naming the flag otherwise.
absl::StatusOr<double> ParseOpenUnitFlag(absl::string_view flag,
                                         absl::string_view value);

// The abstention threshold for `max_risk` at `delta` from the report's
// calibration images. FailedPrecondition naming `report_path` when it
// has no conformal section or its calibration confidences are not most
// confident first.
absl::StatusOr<RiskControlledAbstention> ReportRiskControl(
    const EvaluationReport& report, const std::string& report_path,
    double max_risk, double delta);

// What the chosen threshold promises and did on the conformal test images.
std::string DescribeRiskControl(const RiskControlledAbstention& choice,
                                double max_risk, double delta,
                                const EvaluationReport& report,
                                const std::string& report_path);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_PREDICT_SETS_H_
