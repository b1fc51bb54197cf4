// A Mixture-of-Experts layer: route each token to its top-k experts, run
// only those (sparse dispatch), and combine the experts' deltas weighted by
// the renormalised router probabilities:
//   out = sum_k p_k * delta_{e_k}(x)        (the caller adds the residual)
// Slots dropped by a capacity limit contribute nothing.
//
// Sparse dispatch: slots are sorted by expert, each expert gathers its
// tokens, runs once on them, and the gate-weighted results are scattered
// back with one index_add. `forward_dense` is the reference: every expert on
// every token, then the same selection and dropping. It exists for tests and
// benchmarks; the model never calls it unless asked to.
//
// Legend: B batch, N tokens, D embed, E experts, K top-k, T = B*N.
#ifndef VIT_MOE_MODEL_MOE_LAYER_H_
#define VIT_MOE_MODEL_MOE_LAYER_H_

#include <torch/torch.h>

#include <memory>
#include <utility>
#include <vector>

#include "model/dispatch.h"
#include "model/experts.h"
#include "model/model_config.pb.h"
#include "model/router.h"

namespace vit_moe::model {

// One layer's routing of a batch, for monitoring: detached float scalars
// left on the layer's device, so the forward pass never waits for the host
// (the trainer reads all layers' at once).
struct MoeDiagnostics {
  torch::Tensor dropped_fraction;  // share of the T*K top-k slots dropped by
                                   // the capacity limit; 0 when dropless
  torch::Tensor router_entropy;    // RouterEntropy of the probabilities
  torch::Tensor image_router_entropy;  // [B]: ImageRouterEntropy, the same
                                       // per image (out-of-distribution
                                       // scores read it)
  torch::Tensor z_loss;                // unweighted, as MoeOutput::z_loss
};

struct MoeOutput {
  torch::Tensor delta;           // [B, N, D], no residual
  RoutingStatistics routing;     // of this batch alone
  torch::Tensor aux_loss;        // scalar: balance weight x balance_loss +
                                 // router_penalty
  torch::Tensor balance_loss;    // scalar, unweighted, of `routing`
  torch::Tensor router_penalty;  // scalar: weighted z-loss + router L2
  torch::Tensor z_loss;          // scalar, unweighted
  torch::Tensor router_l2;       // scalar, ||router weight||_F
  torch::Tensor expert_load;     // [E] float, top-k assignments per expert
  torch::Tensor top_experts;     // [B, N, K] int64
  MoeDiagnostics diagnostics;
};

class MoeLayerImpl : public torch::nn::Module {
 public:
  // Builds the experts of `resolved.moe().expert_kind()`.
  explicit MoeLayerImpl(const ModelConfig& resolved);

  // x: [B, N, D] (block experts: the residual stream; FFN experts: the
  // normalised tokens).
  MoeOutput forward(const torch::Tensor& x);
  MoeOutput forward_dense(const torch::Tensor& x);

  int64_t num_experts() const { return static_cast<int64_t>(experts_.size()); }
  ExpertImpl& expert(int64_t e) { return *experts_[e]; }

  Router router{nullptr};

 private:
  struct Routed {
    MoeOutput output;     // everything but delta
    torch::Tensor gates;  // [T, K]
    DispatchPlan plan;
  };
  Routed Route(const torch::Tensor& x);

  MoeConfig config_;
  torch::nn::ModuleList expert_list_;
  std::vector<std::shared_ptr<ExpertImpl>> experts_;
};
TORCH_MODULE(MoeLayer);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_MOE_LAYER_H_
