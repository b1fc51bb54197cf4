// A loaded model ready to classify a store's splits (the evaluator's
// context), and what one pass over a split gives: logits, the pooled
// features and the per-image router entropy, in split order. One pass
// feeds accuracy, calibration, routing and the out-of-distribution scores.
//
// Legend: N images, C classes, D embed.
#ifndef VIT_MOE_EVAL_SPLIT_OUTPUTS_H_
#define VIT_MOE_EVAL_SPLIT_OUTPUTS_H_

#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "data/loader.h"
#include "data/normalization.h"
#include "data/store.h"
#include "eval/utilisation.h"
#include "model/precision.h"
#include "model/vit_moe.h"

namespace vit_moe::eval {

struct EvaluationContext {
  model::ViTMoE model;  // in eval mode
  data::Normalization norm;
  torch::Device device;
  int64_t batch_size;
  model::PrecisionChoice precision;
};

struct SplitOutputs {
  torch::Tensor logits;    // [N, C] float32, CPU
  torch::Tensor features;  // [N, D] float32, CPU: the head's input
  // [N] float32, CPU: router entropy (nats) averaged over the image's tokens
  // and the MoE layers; undefined for a model without MoE layers.
  torch::Tensor router_entropy;
};

// Runs the first `limit` images of a split (0 = all) through the
// evaluation batch pipeline and the model. `transform` (a corruption, an
// out-of-distribution change) runs on the uint8 batch first; `counter`
// receives the routing of every batch.
SplitOutputs RunSplit(EvaluationContext& ctx, const data::SplitData& split,
                      int64_t limit,
                      std::function<data::Batch(data::Batch)> transform,
                      UtilisationCounter* counter);

// The first `limit` labels of a split (0 = all).
torch::Tensor FirstLabels(const data::SplitData& split, int64_t limit);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_SPLIT_OUTPUTS_H_
