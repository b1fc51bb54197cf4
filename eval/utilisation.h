// Expert utilisation: which experts the router sends each class's tokens to.
// Fed batch by batch with ModelOutput::top_experts, so a whole split never
// has to sit in memory.
#ifndef VIT_MOE_EVAL_UTILISATION_H_
#define VIT_MOE_EVAL_UTILISATION_H_

#include <torch/torch.h>

#include <vector>

#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

class UtilisationCounter {
 public:
  UtilisationCounter(int64_t num_classes, int64_t num_experts);

  // `top_experts`: per MoE layer [B, N, K] int64 expert ids; `labels` [B].
  // The first call fixes the number of layers.
  void Add(const std::vector<torch::Tensor>& top_experts,
           const torch::Tensor& labels);

  // Per MoE layer (in model order, `layer` = index among MoE layers): the
  // share of token slots per expert, and per class the share of that class's
  // slots per expert. Classes without images get a row of zeros.
  std::vector<LayerUtilisation> Result() const;

 private:
  int64_t num_classes_, num_experts_;
  std::vector<torch::Tensor> counts_;  // per layer [C, E] int64 slot counts
};

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_UTILISATION_H_
