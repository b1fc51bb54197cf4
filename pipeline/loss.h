// Classification loss of training: cross entropy against soft targets
// (one-hot, or mixed by CutMix/MixUp) after label smoothing. Smoothing is
// applied per component so a mixed target stays a proper distribution:
// t' = t (1 - e) + (1 - t) e / (C - 1); a one-hot row becomes 1-e on its
// class and e/(C-1) elsewhere, as the seed specifies.
#ifndef VIT_MOE_PIPELINE_LOSS_H_
#define VIT_MOE_PIPELINE_LOSS_H_

#include <torch/torch.h>

namespace vit_moe::pipeline {

// logits [B, C] (any float dtype; computed in float32), targets [B, C]
// float, rows sum to 1. Returns the mean over B, a float32 scalar.
torch::Tensor SmoothedSoftTargetCrossEntropy(const torch::Tensor& logits,
                                             const torch::Tensor& targets,
                                             double smoothing);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_LOSS_H_
