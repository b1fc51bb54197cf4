// Classification metrics for the safety report, as pure functions of model
// scores and labels: accuracy, NLL, per-class precision/recall/F1, confusion
// counts, calibration (ECE + reliability bins), temperature scaling and
// selective prediction (risk-coverage, AURC).
//
// Legend: N images, C classes. Scores are [N, C] logits or probabilities
// (float or double, any device); labels are [N] int64 in 0..C-1. Work is done
// in double precision on the CPU so results do not depend on the device.
#ifndef VIT_MOE_EVAL_METRICS_H_
#define VIT_MOE_EVAL_METRICS_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

// Share of images whose label is among the k highest scores (k is capped at
// C). Ties in scores are broken by torch::topk.
double TopKAccuracy(const torch::Tensor& scores, const torch::Tensor& labels,
                    int64_t k);

// Mean negative log-likelihood in nats of `logits` [N, C] divided by
// `temperature`.
double MeanNll(const torch::Tensor& logits, const torch::Tensor& labels,
               double temperature = 1.0);

// [C, C] int64 counts, rows = true class, columns = predicted class.
torch::Tensor ConfusionMatrix(const torch::Tensor& predicted,
                              const torch::Tensor& labels, int64_t num_classes);

// Precision, recall, F1 and support per class from a [C, C] confusion
// matrix; a class never predicted has precision 0, one never present recall 0.
std::vector<ClassMetrics> PerClassMetrics(
    const torch::Tensor& confusion, const std::vector<std::string>& names);

// Expected calibration error over `num_bins` equal-width confidence bins
// (confidence = max probability; the last bin includes 1.0), the bins
// themselves, and the NLL of `probabilities` [N, C].
Calibration MeasureCalibration(const torch::Tensor& probabilities,
                               const torch::Tensor& labels, int num_bins = 15);

// The temperature T > 0 minimising the NLL of softmax(logits / T) on a held
// out set. NLL is convex in 1/T, hence unimodal in log T: a golden-section
// search over T in [0.05, 20] finds the minimum to ~1e-6 relative.
// InvalidArgument for an empty set or non-finite logits.
absl::StatusOr<double> FitTemperature(const torch::Tensor& logits,
                                      const torch::Tensor& labels);

// softmax(logits / temperature) [N, C] in double precision on the CPU: the
// calibrated probabilities, computed the same way by //eval:evaluate and
// //eval:predict so that a confidence threshold means the same in both.
torch::Tensor TemperatureSoftmax(const torch::Tensor& logits,
                                 double temperature);

// The top-1 confidence of TemperatureSoftmax(logits, temperature) of every
// image and whether its top-1 class equals its label, most confident first
// (ties in input order).
ScaledConfidences MeasureScaledConfidences(const torch::Tensor& logits,
                                           const torch::Tensor& labels,
                                           double temperature);

struct SelectiveRisk {
  // At most max_points points evenly spaced in coverage, ending at 1.
  std::vector<RiskCoveragePoint> curve;
  // Mean of the risk over all N coverages k/N (k = 1..N).
  double aurc = 0;
  // Risk among the ceil(c * N) most confident images.
  double risk_at_99 = 0, risk_at_95 = 0, risk_at_90 = 0;
};

// Risk-coverage of a selective classifier that abstains on the least
// confident images. `confidence` [N] (higher = kept first; ties keep input
// order), `correct` [N] bool.
SelectiveRisk MeasureSelectiveRisk(const torch::Tensor& confidence,
                                   const torch::Tensor& correct,
                                   int max_points = 200);

// Error among the ceil(coverage * N) most confident images, using the same
// ordering as MeasureSelectiveRisk.
double RiskAtCoverage(const torch::Tensor& confidence,
                      const torch::Tensor& correct, double coverage);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_METRICS_H_
