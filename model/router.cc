#include "model/router.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include <cmath>

#include "glog/logging.h"
#include "model/dispatch.h"
#include "model/layers.h"

namespace vit_moe::model {

namespace F = torch::nn::functional;

RouterImpl::RouterImpl(int64_t dim, int64_t num_experts, int64_t top_k,
                       RouterKind kind, double noise_std)
    : dim_(dim), top_k_(top_k), kind_(kind), noise_std_(noise_std) {
  CHECK(top_k >= 1 && top_k <= num_experts);
  if (kind == EXPERT_TOKEN) {
    expert_tokens_ =
        register_parameter("expert_tokens", torch::empty({num_experts, dim}));
    InitTruncNormal(expert_tokens_, 0.02);
  } else {
    CHECK_EQ(kind, LINEAR);
    linear_ = register_module(
        "linear", torch::nn::Linear(
                      torch::nn::LinearOptions(dim, num_experts).bias(false)));
    InitLinear(linear_);
  }
}

torch::Tensor RouterImpl::weight() const {
  return kind_ == EXPERT_TOKEN ? expert_tokens_ : linear_->weight;
}

Routing RouterImpl::forward(const torch::Tensor& x) {
  // Routing in float32 even under bf16 autocast, as Switch Transformers do
  // ("selective precision"): in bf16 the logits of near-tied experts round
  // together and choices flip. The router is a small share of the work.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  torch::Tensor normed = F::layer_norm(
      x.to(torch::kFloat32), F::LayerNormFuncOptions({dim_}));  // [T, D]
  Routing r;
  if (kind_ == EXPERT_TOKEN) {
    r.clean_logits = torch::matmul(normed, expert_tokens_.t()) /
                     std::sqrt(static_cast<double>(dim_));  // [T, E]
  } else {
    r.clean_logits = linear_->forward(normed);  // [T, E]
  }
  torch::Tensor logits = r.clean_logits;
  if (is_training() && noise_std_ > 0.0) {
    logits = logits + torch::randn_like(logits) * noise_std_;
  }
  r.probs = torch::softmax(logits, -1);
  auto [top_probs, top_experts] = torch::topk(r.probs, top_k_, -1);
  r.top_experts = top_experts;                                // [T, K]
  r.gates = top_probs / top_probs.sum(-1, /*keepdim=*/true);  // [T, K]
  return r;
}

torch::Tensor ExpertLoad(const torch::Tensor& top_experts,
                         int64_t num_experts) {
  return CountValues(top_experts, num_experts).to(torch::kFloat);
}

RoutingStatistics ComputeRoutingStatistics(const torch::Tensor& probs,
                                           const torch::Tensor& top_experts) {
  RoutingStatistics statistics;
  statistics.assignment_share =
      ExpertLoad(top_experts, probs.size(-1)).to(probs.device()) /
      static_cast<double>(top_experts.numel());
  statistics.mean_prob = probs.mean(0);
  return statistics;
}

torch::Tensor BalanceLoss(const RoutingStatistics& statistics) {
  const int64_t e = statistics.mean_prob.size(0);
  return static_cast<double>(e) *
         (statistics.assignment_share * statistics.mean_prob).sum();
}

torch::Tensor PackRoutingStatistics(
    const std::vector<RoutingStatistics>& layers) {
  std::vector<torch::Tensor> parts;
  for (const RoutingStatistics& layer : layers) {
    parts.push_back(layer.assignment_share.to(torch::kFloat));
    parts.push_back(layer.mean_prob.detach().to(torch::kFloat));
  }
  return torch::cat(parts);
}

std::vector<RoutingStatistics> GlobalRoutingStatistics(
    const std::vector<RoutingStatistics>& local,
    const torch::Tensor& mean_over_ranks) {
  std::vector<RoutingStatistics> global;
  int64_t offset = 0;
  for (const RoutingStatistics& layer : local) {
    const int64_t e = layer.mean_prob.size(0);
    RoutingStatistics& g = global.emplace_back();
    g.assignment_share = mean_over_ranks.narrow(0, offset, e);
    const torch::Tensor global_prob = mean_over_ranks.narrow(0, offset + e, e);
    g.mean_prob =
        layer.mean_prob + (global_prob.to(layer.mean_prob.scalar_type()) -
                           layer.mean_prob.detach());
    offset += 2 * e;
  }
  CHECK_EQ(offset, mean_over_ranks.numel())
      << "statistics packed for other layers";
  return global;
}

torch::Tensor ZLoss(const torch::Tensor& logits) {
  return torch::logsumexp(logits, -1).pow(2).mean();
}

torch::Tensor RouterEntropy(const torch::Tensor& probs) {
  const torch::Tensor p = probs.detach().to(torch::kFloat);
  // xlogy: an expert with probability 0 adds 0, not 0 * -inf.
  return -torch::xlogy(p, p).sum(-1).mean();
}

torch::Tensor ImageRouterEntropy(const torch::Tensor& probs, int64_t images) {
  const torch::Tensor p = probs.detach().to(torch::kFloat);
  return -torch::xlogy(p, p).sum(-1).view({images, -1}).mean(1);
}

}  // namespace vit_moe::model
