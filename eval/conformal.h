// Split-conformal prediction sets for a classifier: from calibrated class
// probabilities and a calibration set, a threshold on a nonconformity score
// such that the set {y : score(x, y) <= threshold} holds the true class of
// a new image with probability at least 1 - alpha, whenever calibration and
// new images are exchangeable.
//
// Legend: N images, C classes; probabilities [N, C] (rows sum to 1, any
// dtype, converted to double on the CPU), labels [N] int64.
//
// Scores (none randomised, so an image always gets the same set):
//   lac:  1 - p_y (LAC / THR: the smallest sets on average).
//   aps:  the mass of the classes ranked strictly above y (APS with u = 0:
//         a set is the most probable classes until their mass passes the
//         threshold, the class that passes it included, so never empty).
//   raps: aps + lambda * max(0, rank(y) - k_reg), rank 1-based (RAPS, which
//         penalises long tails of unlikely classes).
// The Beta law of coverage holds when the threshold is not on tied
// scores. APS and RAPS give every image's top class the score 0: where
// 1 - alpha is below the model's top-1 accuracy the threshold is that tie
// (0), the sets are the top class alone and coverage exceeds the law.
// Deliberately not here: randomised (u ~ U(0,1)) APS/RAPS, and tuning
// k_reg and lambda on data.
#ifndef VIT_MOE_EVAL_CONFORMAL_H_
#define VIT_MOE_EVAL_CONFORMAL_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

enum class ConformalScore { kLac, kAps, kRaps };

// The scores in the order the report lists them.
std::vector<ConformalScore> AllConformalScores();
const char* ConformalScoreName(ConformalScore score);
// "lac", "aps" or "raps"; InvalidArgument naming the value otherwise.
absl::StatusOr<ConformalScore> ParseConformalScore(absl::string_view name);

// RAPS's regularisation. The RAPS paper's illustrations use k_reg 5 and
// lambda 0.01 (it otherwise tunes them on held-out data).
struct RapsSettings {
  int k_reg = 5;
  double lambda = 0.01;
};

// score(x, y) of every class of every image: [N, C] double.
torch::Tensor ClassScores(const torch::Tensor& probabilities,
                          ConformalScore score, const RapsSettings& raps);

// InvalidArgument unless 0 < alpha < 1 and the calibration set is large
// enough for alpha, n >= 1/alpha - 1 (else the threshold's rank
// ceil((n + 1)(1 - alpha)) exceeds n and only the set of every class would
// be valid). `what` names the flag or field in the message.
absl::Status CheckConformalAlpha(double alpha, int64_t calibration_images,
                                 absl::string_view what);

// The threshold from calibration scores [n] (each image's score of its
// true class): the ceil((n + 1)(1 - alpha))-th smallest. Errors as
// CheckConformalAlpha.
absl::StatusOr<double> ConformalThreshold(const torch::Tensor& scores,
                                          double alpha);

// [N, C] bool: the prediction set of each image.
torch::Tensor PredictionSets(const torch::Tensor& probabilities,
                             ConformalScore score, const RapsSettings& raps,
                             double threshold);

// The law of split-conformal coverage given n calibration images:
// Beta(n + 1 - l, l), l = floor((n + 1) alpha). Its mean and its central
// `level` interval (the 0.5 (1 - level) and 0.5 (1 + level) quantiles).
struct CoverageLaw {
  double mean = 0;
  double low = 0;
  double high = 1;
};
CoverageLaw SplitConformalCoverageLaw(int64_t calibration_images, double alpha,
                                      double level);

// The seeded split of `n` images into `calibration` (the first
// floor(n * calibration_fraction) of a Fisher-Yates permutation) and
// `test` (the rest), each in increasing index order.
int64_t ConformalCalibrationSize(int64_t n, double calibration_fraction);
struct ConformalSplit {
  std::vector<int64_t> calibration;
  std::vector<int64_t> test;
};
ConformalSplit SplitForConformal(int64_t n, double calibration_fraction,
                                 uint64_t seed);

// Fits the threshold on the calibration images and measures the sets on
// the test images: one ConformalResult. `interval_level` for the Wilson
// interval of the coverage, `law_level` for the Beta law's interval.
absl::StatusOr<ConformalResult> MeasureConformal(
    const torch::Tensor& calibration_probabilities,
    const torch::Tensor& calibration_labels,
    const torch::Tensor& test_probabilities, const torch::Tensor& test_labels,
    ConformalScore score, const RapsSettings& raps, double alpha,
    double interval_level, double law_level);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_CONFORMAL_H_
