// The accuracy gate: compares an EvaluationReport with GateThresholds so CI
// can refuse a model that regressed. A threshold on a metric the report does
// not contain fails (an unmeasured metric is not a passed one).
#ifndef VIT_MOE_EVAL_GATE_H_
#define VIT_MOE_EVAL_GATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eval/evaluation.pb.h"
#include "eval/gate_thresholds.pb.h"

namespace vit_moe::eval {

struct GateResult {
  // One line per failed check, e.g.
  // "top1_accuracy 0.8123 < min_top1_accuracy 0.9000".
  std::vector<std::string> failures;
  // One line per passed check, same form with >= / <=.
  std::vector<std::string> passes;
  bool passed() const { return failures.empty(); }
};

// InvalidArgument naming `path` and the field when a threshold is out of its
// range, or when the file sets no threshold at all.
absl::Status ValidateThresholds(const GateThresholds& thresholds,
                                const std::string& path);

// Reads and validates a GateThresholds text proto.
absl::StatusOr<GateThresholds> ReadThresholds(const std::string& path);

// Reads an EvaluationReport: binary for *.pb, text format otherwise.
absl::StatusOr<EvaluationReport> ReadReport(const std::string& path);

// `baseline`: the report of //eval:gate --baseline, already checked by
// CheckSameImages (gate_baseline.h), or null.
GateResult CheckGate(const EvaluationReport& report,
                     const GateThresholds& thresholds,
                     const EvaluationReport* baseline = nullptr);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_GATE_H_
