// The gate's paired comparison of a report with a baseline report of the
// same images: McNemar's exact test on the images only one of the two
// models got right, and the drop in top-1 it sees.
#ifndef VIT_MOE_EVAL_GATE_BASELINE_H_
#define VIT_MOE_EVAL_GATE_BASELINE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "eval/evaluation.pb.h"
#include "eval/gate.h"
#include "eval/gate_thresholds.pb.h"

namespace vit_moe::eval {

// FailedPrecondition naming both files unless the two reports judged the
// same images: the same split, the same store (manifest SHA-256), the same
// image count, and both hold per-image correctness of that many images.
absl::Status CheckSameImages(const EvaluationReport& report,
                             const std::string& report_path,
                             const EvaluationReport& baseline,
                             const std::string& baseline_path);

struct PairedComparison {
  int64_t images = 0;
  int64_t baseline_right = 0;
  int64_t new_right = 0;
  // Discordant images: the baseline right and the new model wrong, and
  // the reverse.
  int64_t only_baseline_right = 0;
  int64_t only_new_right = 0;
  // (baseline_right - new_right) / images: positive when the new model
  // is worse.
  double drop() const {
    return static_cast<double>(baseline_right - new_right) / images;
  }
  // McNemarWorsePValue of the discordant counts.
  double p_value = 1;
};

// Reports that passed CheckSameImages.
PairedComparison ComparePaired(const EvaluationReport& report,
                               const EvaluationReport& baseline);

// The fields of `report` a later --baseline comparison needs (split,
// store, image count, digests, top-1 and per-image correctness): a few KB
// to commit as a baseline instead of the whole report.
EvaluationReport BaselineReport(const EvaluationReport& report);

// Adds one line for baseline_max_drop / baseline_significance to `result`:
// a failure when the drop exceeds the margin and p is below the
// significance, or when they are set and `baseline` is null.
void CheckBaseline(const EvaluationReport& report,
                   const EvaluationReport* baseline,
                   const GateThresholds& thresholds, GateResult* result);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_GATE_BASELINE_H_
