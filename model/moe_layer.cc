#include "model/moe_layer.h"

#include "model/config.h"

namespace vit_moe::model {

MoeLayerImpl::MoeLayerImpl(const ModelConfig& c) : config_(c.moe()) {
  const int64_t dim = c.embed_dim();
  const int64_t hidden = MlpHiddenDim(c);
  router = register_module(
      "router", Router(dim, config_.num_experts(), config_.top_k(),
                       config_.router_kind(), config_.router_noise()));
  expert_list_ = register_module("experts", torch::nn::ModuleList());
  for (int e = 0; e < config_.num_experts(); ++e) {
    std::shared_ptr<ExpertImpl> expert;
    if (config_.expert_kind() == BLOCK) {
      expert = std::make_shared<BlockExpertImpl>(dim, c.num_heads(), hidden,
                                                 c.qkv_bias(), c.dropout(),
                                                 c.attention_dropout());
    } else {
      expert = std::make_shared<FfnExpertImpl>(dim, hidden, c.dropout());
    }
    expert_list_->push_back(expert);
    experts_.push_back(expert);
  }
}

MoeLayerImpl::Routed MoeLayerImpl::Route(const torch::Tensor& x) {
  const int64_t b = x.size(0), n = x.size(1), d = x.size(2);
  const int64_t e = num_experts(), k = config_.top_k();
  Routing routing = router->forward(x.reshape({b * n, d}));
  Routed r;
  MoeOutput& out = r.output;
  out.routing = ComputeRoutingStatistics(routing.probs, routing.top_experts);
  out.balance_loss = BalanceLoss(out.routing);
  out.z_loss = ZLoss(routing.clean_logits);
  out.router_l2 = router->weight().norm();
  out.router_penalty = config_.z_loss_weight() * out.z_loss +
                       config_.router_l2_weight() * out.router_l2;
  out.aux_loss =
      config_.balance_loss_weight() * out.balance_loss + out.router_penalty;
  out.expert_load = ExpertLoad(routing.top_experts, e);
  out.top_experts = routing.top_experts.view({b, n, k});
  r.gates = routing.gates;
  r.plan = PlanDispatch(routing.top_experts, routing.gates, e,
                        ExpertCapacity(config_.capacity_factor(), b * n, k, e));
  out.diagnostics.dropped_fraction =
      torch::logical_not(r.plan.keep).to(torch::kFloat).mean();
  out.diagnostics.router_entropy = RouterEntropy(routing.probs);
  out.diagnostics.image_router_entropy = ImageRouterEntropy(routing.probs, b);
  out.diagnostics.z_loss = out.z_loss.detach().to(torch::kFloat);
  return r;
}

MoeOutput MoeLayerImpl::forward(const torch::Tensor& x) {
  const int64_t d = x.size(2);
  Routed r = Route(x);
  const DispatchPlan& plan = r.plan;
  std::vector<torch::Tensor> deltas;  // per expert [S_e, D]
  for (int64_t e = 0; e < num_experts(); ++e) {
    const int64_t begin = plan.expert_begin[e];
    const int64_t count = plan.expert_begin[e + 1] - begin;
    if (count == 0) continue;
    deltas.push_back(
        experts_[e]->DeltaForTokens(x, plan.token.narrow(0, begin, count)));
  }
  torch::Tensor combined =
      torch::zeros({x.size(0) * x.size(1), d}, x.options());
  if (!deltas.empty()) {
    torch::Tensor weighted =
        torch::cat(deltas, 0) * plan.gate.unsqueeze(1);  // [S, D]
    combined = combined.index_add(0, plan.token, weighted);
  }
  r.output.delta = combined.view_as(x);
  return r.output;
}

MoeOutput MoeLayerImpl::forward_dense(const torch::Tensor& x) {
  Routed r = Route(x);
  const int64_t t = x.size(0) * x.size(1), k = config_.top_k();
  // [T, E]: the weight of each expert for each token, zero where the expert
  // was not chosen or the slot was dropped.
  torch::Tensor kept_gates = r.gates * r.plan.keep.to(r.gates.dtype());
  torch::Tensor chosen =
      torch::one_hot(r.output.top_experts.view({t, k}), num_experts())
          .to(x.dtype());  // [T, K, E]
  torch::Tensor weight = (chosen * kept_gates.unsqueeze(2)).sum(1);  // [T, E]
  torch::Tensor combined = torch::zeros_like(x);
  for (int64_t e = 0; e < num_experts(); ++e) {
    combined =
        combined + experts_[e]->DeltaForAll(x) *
                       weight.select(1, e).view({x.size(0), x.size(1), 1});
  }
  r.output.delta = combined;
  return r.output;
}

}  // namespace vit_moe::model
