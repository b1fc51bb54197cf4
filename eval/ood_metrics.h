// Detection metrics of one out-of-distribution score, with the
// in-distribution images as the positive class and scores oriented so that
// higher means "in-distribution" (OpenOOD's convention). All of them are
// exact over the given scores (no binning); ties between an in and an out
// image count half, as in the Mann-Whitney statistic.
#ifndef VIT_MOE_EVAL_OOD_METRICS_H_
#define VIT_MOE_EVAL_OOD_METRICS_H_

#include <vector>

namespace vit_moe::eval {

// P(score of a random in image > that of a random out image) + P(tie) / 2.
// Both sets non-empty (CHECKed).
double Auroc(const std::vector<double>& in, const std::vector<double>& out);

// Average precision of ranking `positive` above `negative` by descending
// score: sum over distinct score values of (recall step) x precision there.
double AveragePrecision(const std::vector<double>& positive,
                        const std::vector<double>& negative);

// The largest threshold t that accepts (score >= t) at least
// `accepted_share` of `in`: its ceil(share * n)-th largest score.
double AcceptanceThreshold(const std::vector<double>& in,
                           double accepted_share);

// Share of `scores` >= threshold.
double ShareAtLeast(const std::vector<double>& scores, double threshold);

// False positive rate (share of `out` accepted) at the threshold that
// accepts 95% of `in`.
double FprAt95Tpr(const std::vector<double>& in,
                  const std::vector<double>& out);

struct RocCurve {
  std::vector<double> fpr, tpr;  // from (0, 0) to (1, 1)
};
// The ROC curve at up to `max_points` thresholds, evenly spaced over the
// sorted distinct scores (always including both ends).
RocCurve Roc(const std::vector<double>& in, const std::vector<double>& out,
             int max_points);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_OOD_METRICS_H_
