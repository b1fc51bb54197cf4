// Out-of-distribution scores of a model's outputs, each oriented so that a
// higher score means "more like the training distribution":
//   msp             max softmax probability (Hendrycks & Gimpel 2017)
//   max_logit       largest logit (Hendrycks et al. 2022)
//   energy          T * logsumexp(logits / T), minus the free energy
//                   (Liu et al. 2020); T = 1
//   mahalanobis     minus the smallest Mahalanobis distance of the features
//                   to a class mean, shared covariance (Lee et al. 2018)
//   knn             minus the distance of the L2-normalised features to
//                   their k-th nearest normalised training feature
//                   (Sun et al. 2022)
//   router_entropy  minus the mean router entropy: the hypothesis that the
//                   MoE routes unfamiliar tokens less decisively
// Legend: N images, M fit images, C classes, D features.
#ifndef VIT_MOE_EVAL_OOD_SCORES_H_
#define VIT_MOE_EVAL_OOD_SCORES_H_

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "eval/split_outputs.h"

namespace vit_moe::eval {

inline constexpr double kEnergyTemperature = 1.0;

// What the feature-space scores learn from training images.
struct OodFeatureFit {
  torch::Tensor class_means;       // [C', D] float64, classes seen in the fit
  torch::Tensor precision;         // [D, D] float64: pseudo-inverse of the
                                   // shared within-class covariance
  torch::Tensor train_normalised;  // [M, D] float32, unit rows
  int knn_k = 0;                   // min(requested k, M)
};

// features [M, D], labels [M] int64. M >= 1 (CHECKed).
OodFeatureFit FitOodFeatures(const torch::Tensor& features,
                             const torch::Tensor& labels, int64_t num_classes,
                             int knn_k);

// (score name, [N] float64 scores) in the order listed above;
// router_entropy only when `outputs` has it.
std::vector<std::pair<std::string, torch::Tensor>> OodScores(
    const SplitOutputs& outputs, const OodFeatureFit& fit);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_OOD_SCORES_H_
