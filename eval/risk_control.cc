#include "eval/risk_control.h"

#include <glog/logging.h>

#include <cmath>
#include <vector>

#include "eval/statistics.h"

namespace vit_moe::eval {
namespace {

constexpr int kCandidates = 1000;
constexpr int kChains = 10;

}  // namespace

std::vector<double> AbstentionCandidates() {
  std::vector<double> t(kCandidates);
  for (int j = 0; j < kCandidates; ++j) {
    t[j] = 1 - std::pow(10.0, -6.0 + 6.0 * j / (kCandidates - 1));
  }
  t.back() = 0;
  return t;
}

RiskControlledAbstention ChooseAbstentionThreshold(
    const ScaledConfidences& calibration, double max_risk, double delta) {
  CHECK(max_risk > 0 && max_risk < 1);
  CHECK(delta > 0 && delta < 1);
  CHECK_EQ(calibration.confidence_size(), calibration.correct_size());
  const int64_t n = calibration.confidence_size();
  const double level = delta / kChains;
  const std::vector<double> candidates = AbstentionCandidates();
  // Errors among the k most confident, k = 0..n.
  std::vector<int64_t> errors(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    errors[i + 1] = errors[i] + !calibration.correct(i);
  }
  RiskControlledAbstention best;
  best.calibration_images = n;
  int64_t answered = 0;  // images with confidence >= candidates[j]
  const int per_chain = kCandidates / kChains;
  for (int chain = 0; chain < kChains; ++chain) {
    for (int j = chain * per_chain; j < (chain + 1) * per_chain; ++j) {
      const double t = candidates[j];
      while (answered < n && calibration.confidence(answered) >= t) ++answered;
      const int64_t k = errors[answered];
      if (answered == 0 || BinomialCdf(k, answered, max_risk) > level) break;
      // Rejected: risk(t) <= max_risk. Candidates only fall, so the last
      // rejection of any chain answers the most.
      if (!best.found || t < best.threshold) {
        best.found = true;
        best.threshold = t;
        best.answered = answered;
        best.errors = k;
        best.risk_bound = ClopperPearsonUpper(k, answered, level);
      }
    }
    // The next chain starts at a lower t: recount from its first candidate.
    answered = 0;
  }
  return best;
}

}  // namespace vit_moe::eval
