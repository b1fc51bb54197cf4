#include "eval/predict_answer.h"

#include <glog/logging.h>

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "google/protobuf/util/json_util.h"

namespace vit_moe::eval {

absl::StatusOr<double> ReportTemperature(const EvaluationReport& report,
                                         const std::string& report_path,
                                         const std::string& model_path) {
  ASSIGN_OR_RETURN(const std::string model_sha, Sha256OfFile(model_path));
  if (report.checkpoint_sha256() != model_sha) {
    return absl::FailedPreconditionError(absl::StrCat(
        report_path, " evaluated the model file with SHA-256 ",
        report.checkpoint_sha256(), ", not ", model_path, " (", model_sha,
        "); its temperature and risks are for that model: evaluate this one "
        "with //eval:evaluate"));
  }
  // A fitted temperature lies in [0.05, 20] and one never fitted is 1, so
  // anything else is a damaged or hand-written report.
  if (!(report.temperature() > 0) || !std::isfinite(report.temperature())) {
    return absl::InvalidArgumentError(
        absl::StrCat(report_path, ": temperature ", report.temperature(),
                     " is not a positive number"));
  }
  return report.temperature();
}

absl::StatusOr<double> ParseAbstainBelow(absl::string_view value) {
  double threshold = 0;
  if (!absl::SimpleAtod(value, &threshold) || !(threshold > 0) ||
      !(threshold < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--abstain_below=", value,
                     ": expected a confidence strictly between 0 and 1"));
  }
  return threshold;
}

absl::StatusOr<Abstention> MeasureAbstention(const EvaluationReport& report,
                                             const std::string& report_path,
                                             double threshold) {
  const ScaledConfidences& scaled = report.scaled_confidences();
  if (scaled.confidence_size() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        report_path,
        " has no scaled_confidences (written by an older //eval:evaluate), "
        "so the coverage and risk of --abstain_below cannot be stated; "
        "evaluate the model again"));
  }
  if (scaled.confidence_size() != report.num_images() ||
      scaled.correct_size() != report.num_images()) {
    return absl::FailedPreconditionError(absl::StrCat(
        report_path, ": scaled_confidences holds ", scaled.confidence_size(),
        " confidences and ", scaled.correct_size(), " outcomes for ",
        report.num_images(), " evaluated images"));
  }
  return CountAbstention(scaled, threshold);
}

Abstention CountAbstention(const ScaledConfidences& scaled, double threshold) {
  CHECK_EQ(scaled.confidence_size(), scaled.correct_size());
  Abstention result;
  result.images = scaled.confidence_size();
  // Counted rather than searched: the order is the report's promise, and
  // counting does not depend on it.
  for (int i = 0; i < scaled.confidence_size(); ++i) {
    if (scaled.confidence(i) >= threshold) {
      ++result.kept;
      if (!scaled.correct(i)) ++result.errors;
    }
  }
  return result;
}

std::string DescribeAbstention(const Abstention& abstention, double threshold,
                               const EvaluationReport& report,
                               const std::string& report_path) {
  std::string line = absl::StrFormat(
      "--abstain_below=%g on the %d %s images of %s: answered %d (coverage "
      "%.4f)",
      threshold, abstention.images, report.split(), report_path,
      abstention.kept, abstention.coverage());
  if (abstention.kept > 0) {
    absl::StrAppendFormat(&line, ", risk %.4f (%d wrong)", abstention.risk(),
                          abstention.errors);
  } else {
    absl::StrAppend(&line, ", no risk to state");
  }
  absl::StrAppend(&line, ", abstained on ",
                  abstention.images - abstention.kept);
  return line;
}

Prediction MakePrediction(const std::string& file,
                          const std::vector<ClassScore>& top,
                          double temperature,
                          std::optional<double> abstain_below) {
  CHECK(!top.empty());
  Prediction prediction;
  prediction.set_file(file);
  prediction.set_temperature(temperature);
  prediction.set_abstained(abstain_below.has_value() &&
                           top.front().probability < *abstain_below);
  prediction.set_answer(prediction.abstained() ? "abstain" : top.front().name);
  for (const ClassScore& score : top) {
    ClassProbability* p = prediction.add_top_k();
    p->set_label(static_cast<int32_t>(score.label));
    p->set_name(score.name);
    p->set_probability(score.probability);
  }
  return prediction;
}

void AddPredictionSet(const std::vector<ClassScore>& members,
                      const ConformalResult& rule, Prediction* prediction) {
  prediction->set_set_score(rule.score());
  prediction->set_set_alpha(rule.alpha());
  for (const ClassScore& score : members) {
    ClassProbability* p = prediction->add_prediction_set();
    p->set_label(static_cast<int32_t>(score.label));
    p->set_name(score.name);
    p->set_probability(score.probability);
  }
}

absl::StatusOr<std::string> PredictionJson(const Prediction& prediction) {
  google::protobuf::util::JsonPrintOptions options;
  // false, 0 and "" are answers too: a reader should not have to know
  // proto3's defaults.
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  // Protobuf's JSON printer only logs bad strings and prints their bytes,
  // which no JSON reader takes.
  bool utf8 = IsValidUtf8(prediction.file());
  for (const ClassProbability& p : prediction.top_k()) {
    utf8 = utf8 && IsValidUtf8(p.name());
  }
  for (const ClassProbability& p : prediction.prediction_set()) {
    utf8 = utf8 && IsValidUtf8(p.name());
  }
  if (!utf8) {
    return absl::InvalidArgumentError(absl::StrCat(
        prediction.file(),
        ": the file name or a class name is not UTF-8, which JSON cannot "
        "carry; use --format=text"));
  }
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(prediction, &json, options);
  CHECK(status.ok()) << status;  // fails only on invalid UTF-8, ruled out
  return json;
}

std::string PredictionText(const Prediction& prediction) {
  std::string text = absl::StrCat(prediction.file(), ": ", prediction.answer());
  if (prediction.abstained()) {
    absl::StrAppendFormat(&text, " (top-1 %s at %.4f)",
                          prediction.top_k(0).name(),
                          prediction.top_k(0).probability());
  }
  absl::StrAppend(&text, "\n");
  for (int j = 0; j < prediction.top_k_size(); ++j) {
    absl::StrAppendFormat(&text, "  %d. %-28s%.4f\n", j + 1,
                          prediction.top_k(j).name(),
                          prediction.top_k(j).probability());
  }
  if (!prediction.set_score().empty()) {
    std::vector<std::string> members;
    for (const ClassProbability& p : prediction.prediction_set()) {
      members.push_back(absl::StrFormat("%s %.4f", p.name(), p.probability()));
    }
    absl::StrAppendFormat(&text, "  set (%s, alpha %g): {%s}\n",
                          prediction.set_score(), prediction.set_alpha(),
                          absl::StrJoin(members, ", "));
  }
  return text;
}

}  // namespace vit_moe::eval
