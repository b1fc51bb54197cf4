// Abstention with a guaranteed risk (Learn then Test): from calibration
// images' top-1 confidences and correctness, the lowest confidence
// threshold t such that, with probability at least 1 - delta over the
// calibration draw, the error rate among new images answered (confidence
// >= t) is at most max_risk.
//
// Each candidate t is a hypothesis "risk(t) > max_risk", tested with the
// exact binomial p-value P(Binomial(n_t, max_risk) <= errors_t) on the n_t
// calibration images it answers (given t, those are an i.i.d. sample of
// the answered population). The candidates are fixed in advance, 1000 of
// them with 1 - t spaced evenly in log10 from 1e-6 to 1 (t = 0 answers
// everything), and split into 10 chains of 100, each tested from its most
// cautious t downwards at level delta / 10 and stopped at its first
// hypothesis not rejected (fixed-sequence testing). A union bound over
// the chains keeps the chance of any wrong rejection below delta; several
// chains let the search start again below thresholds that answer too few
// calibration images to reject anything.
#ifndef VIT_MOE_EVAL_RISK_CONTROL_H_
#define VIT_MOE_EVAL_RISK_CONTROL_H_

#include <cstdint>
#include <vector>

#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

struct RiskControlledAbstention {
  // False when no candidate was rejected: the guarantee then allows
  // answering nothing.
  bool found = false;
  // Answer when the top-1 confidence is at least this.
  double threshold = 1;
  // Calibration images, those answered at the threshold and their errors.
  int64_t calibration_images = 0;
  int64_t answered = 0;
  int64_t errors = 0;
  // Clopper-Pearson upper bound of the risk at level delta / 10, the
  // bound the test used.
  double risk_bound = 1;
  double expected_coverage() const {
    return calibration_images > 0
               ? static_cast<double>(answered) / calibration_images
               : 0;
  }
};

// `calibration` as ScaledConfidences: confidences most confident first.
// 0 < max_risk < 1, 0 < delta < 1 (CHECKed; the caller validates flags).
RiskControlledAbstention ChooseAbstentionThreshold(
    const ScaledConfidences& calibration, double max_risk, double delta);

// The candidate thresholds, in testing order (decreasing).
std::vector<double> AbstentionCandidates();

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_RISK_CONTROL_H_
