// Token routers and the auxiliary losses computed from their output.
//
// Both routers read a parameter-free LayerNorm of the token (the seed read
// the raw residual stream, whose scale grows with depth):
// - EXPERT_TOKEN (the seed's): logits = norm(x) . E^T / sqrt(D), with E the
//   learned [E, D] matrix "expert_tokens".
// - LINEAR: logits = norm(x) . W^T, W the [E, D] weight of "linear".
// Top-k of softmax(logits), the k probabilities renormalised to sum 1. In
// training, optional Gaussian noise (std router_noise, drawn from torch's
// default generator) is added to the logits that choose and weigh experts.
//
// Legend: T tokens (B*N), D embed, E experts, K top-k.
#ifndef VIT_MOE_MODEL_ROUTER_H_
#define VIT_MOE_MODEL_ROUTER_H_

#include <torch/torch.h>

#include "model/model_config.pb.h"

namespace vit_moe::model {

struct Routing {
  torch::Tensor clean_logits;  // [T, E] without noise (z-loss reads these)
  torch::Tensor probs;         // [T, E] softmax of the (noisy) logits
  torch::Tensor top_experts;   // [T, K] int64, best first
  torch::Tensor gates;         // [T, K] chosen probabilities, rows sum to 1
};

class RouterImpl : public torch::nn::Module {
 public:
  RouterImpl(int64_t dim, int64_t num_experts, int64_t top_k, RouterKind kind,
             double noise_std);
  // x: [T, D] -> Routing.
  Routing forward(const torch::Tensor& x);
  // The [E, D] matrix the router L2 term penalises.
  torch::Tensor weight() const;

 private:
  int64_t dim_;
  int64_t top_k_;
  RouterKind kind_;
  double noise_std_;
  torch::Tensor expert_tokens_;  // [E, D], EXPERT_TOKEN only
  torch::nn::Linear linear_{nullptr};
};
TORCH_MODULE(Router);

// Switch balance loss E * sum_i f_i P_i: f_i the share of the T*K top-k
// assignments that went to expert i, P_i the mean router probability of i.
// Equals 1 under perfectly uniform routing.
torch::Tensor BalanceLoss(const torch::Tensor& probs,
                          const torch::Tensor& top_experts);

// Router z-loss: mean over tokens of logsumexp(logits)^2.
torch::Tensor ZLoss(const torch::Tensor& logits);

// [E] float: how many of the T*K top-k assignments went to each expert.
torch::Tensor ExpertLoad(const torch::Tensor& top_experts, int64_t num_experts);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_ROUTER_H_
