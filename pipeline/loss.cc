#include "pipeline/loss.h"

namespace vit_moe::pipeline {

torch::Tensor SmoothedSoftTargetCrossEntropy(const torch::Tensor& logits,
                                             const torch::Tensor& targets,
                                             double smoothing) {
  int64_t classes = logits.size(1);
  torch::Tensor t = targets.to(torch::kFloat32);  // [B, C]
  if (smoothing > 0 && classes > 1) {
    t = t * (1 - smoothing) + (1 - t) * (smoothing / (classes - 1));
  }
  torch::Tensor log_probs =
      torch::log_softmax(logits.to(torch::kFloat32), /*dim=*/1);  // [B, C]
  return -(t * log_probs).sum(1).mean();
}

}  // namespace vit_moe::pipeline
