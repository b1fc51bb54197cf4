// //eval:predict's answers: the temperature an EvaluationReport fitted for
// the model, abstention below a confidence threshold with what that
// threshold did on the evaluated split, and the text and JSON forms of one
// image's answer.
#ifndef VIT_MOE_EVAL_PREDICT_ANSWER_H_
#define VIT_MOE_EVAL_PREDICT_ANSWER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/evaluation.pb.h"
#include "eval/predict.h"
#include "eval/prediction.pb.h"

namespace vit_moe::eval {

// The temperature `report` (read from `report_path`) fitted for the model
// file at `model_path`. FailedPrecondition naming both files and both
// SHA-256 digests when the report evaluated another model file;
// InvalidArgument naming the report when its temperature is not positive.
absl::StatusOr<double> ReportTemperature(const EvaluationReport& report,
                                         const std::string& report_path,
                                         const std::string& model_path);

// A --abstain_below value: a number strictly between 0 and 1 (0 would
// never abstain, 1 always). InvalidArgument naming the value otherwise.
absl::StatusOr<double> ParseAbstainBelow(absl::string_view value);

// What answering only at confidence >= threshold did on a report's split.
struct Abstention {
  int64_t images = 0;  // evaluated
  int64_t kept = 0;    // answered: confidence at least the threshold
  int64_t errors = 0;  // wrong answers among the kept
  double coverage() const { return static_cast<double>(kept) / images; }
  // Error rate among the answered; 0 when nothing is answered.
  double risk() const {
    return kept == 0 ? 0 : static_cast<double>(errors) / kept;
  }
};

// From `report`'s scaled_confidences, exactly. FailedPrecondition naming
// `report_path` when the report has none (written by an //eval:evaluate
// older than them) or when they do not hold one entry per evaluated image.
absl::StatusOr<Abstention> MeasureAbstention(const EvaluationReport& report,
                                             const std::string& report_path,
                                             double threshold);

// What answering at confidence >= threshold did on `scaled`, exactly.
Abstention CountAbstention(const ScaledConfidences& scaled, double threshold);

// One line saying what `threshold` gave on `report`'s split, e.g.
// "--abstain_below=0.9 on the 10000 test images of R: answered 8123
// (coverage 0.8123), risk 0.0211 (171 wrong), abstained on 1877".
std::string DescribeAbstention(const Abstention& abstention, double threshold,
                               const EvaluationReport& report,
                               const std::string& report_path);

// The answer for `file` from its most probable classes `top` (most probable
// first, not empty): "abstain" when `abstain_below` is given and the first
// is below it.
Prediction MakePrediction(const std::string& file,
                          const std::vector<ClassScore>& top,
                          double temperature,
                          std::optional<double> abstain_below);

// Records `members` (most probable first) as the prediction set built by
// `rule`'s score at its alpha.
void AddPredictionSet(const std::vector<ClassScore>& members,
                      const ConformalResult& rule, Prediction* prediction);

// One line of JSON without the line end. InvalidArgument naming the file
// when a string in it is not UTF-8, which JSON cannot carry.
absl::StatusOr<std::string> PredictionJson(const Prediction& prediction);

// "FILE: ANSWER" then one line per class, then with a prediction set
// "  set (SCORE, alpha A): {NAME P, ...}", each ending in a line end.
std::string PredictionText(const Prediction& prediction);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_PREDICT_ANSWER_H_
