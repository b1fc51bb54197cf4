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

#include <vector>

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

// What the balance loss needs from one MoE layer's routing of a batch.
struct RoutingStatistics {
  torch::Tensor assignment_share;  // [E] float, detached: f_i, the share of
                                   // the T*K top-k assignments to expert i
  torch::Tensor mean_prob;         // [E]: P_i, the mean router probability
                                   // of expert i (carries the gradient)
};

RoutingStatistics ComputeRoutingStatistics(const torch::Tensor& probs,
                                           const torch::Tensor& top_experts);

// Switch balance loss E * sum_i f_i P_i, a pure function of the statistics.
// Equals 1 under perfectly uniform routing.
torch::Tensor BalanceLoss(const RoutingStatistics& statistics);

// Data-parallel training balances the global batch: every layer's (f, P)
// as one detached float [sum of 2E] tensor, so the trainer averages all
// layers over the ranks in a single collective,
torch::Tensor PackRoutingStatistics(
    const std::vector<RoutingStatistics>& layers);
// and the layers' statistics of the global batch from that average (ranks
// hold equal shares). Values are global; the gradient flows only through
// this rank's P, so the mean of the ranks' gradients equals the gradient of
// one process on the whole batch.
std::vector<RoutingStatistics> GlobalRoutingStatistics(
    const std::vector<RoutingStatistics>& local,
    const torch::Tensor& mean_over_ranks);

// Router z-loss: mean over tokens of logsumexp(logits)^2.
torch::Tensor ZLoss(const torch::Tensor& logits);

// Mean over tokens of the entropy -sum_e p_e ln p_e of probs [T, E], in
// nats: ln E for uniform routing, 0 when every token is certain. Detached
// float scalar, for monitoring.
torch::Tensor RouterEntropy(const torch::Tensor& probs);

// [B] float, detached: the entropy of probs [B*N, E] averaged over each
// image's N tokens (tokens image-major, as the MoE layer flattens them).
torch::Tensor ImageRouterEntropy(const torch::Tensor& probs, int64_t images);

// [E] float: how many of the T*K top-k assignments went to each expert.
torch::Tensor ExpertLoad(const torch::Tensor& top_experts, int64_t num_experts);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_ROUTER_H_
