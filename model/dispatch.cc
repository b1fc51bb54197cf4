#include "model/dispatch.h"

#include <cmath>

namespace vit_moe::model {

int64_t ExpertCapacity(double capacity_factor, int64_t tokens, int64_t top_k,
                       int64_t num_experts) {
  if (capacity_factor <= 0.0) return 0;
  return static_cast<int64_t>(std::ceil(capacity_factor * tokens * top_k /
                                        static_cast<double>(num_experts)));
}

DispatchPlan PlanDispatch(const torch::Tensor& top_experts,
                          const torch::Tensor& gates, int64_t num_experts,
                          int64_t capacity) {
  const int64_t t = top_experts.size(0), k = top_experts.size(1);
  const auto index_options = top_experts.options();
  torch::Tensor expert = top_experts.reshape({-1});  // [T*K], slot = t*K + k
  torch::Tensor token =
      torch::arange(t, index_options).repeat_interleave(k);        // [T*K]
  torch::Tensor rank = torch::arange(k, index_options).repeat(t);  // [T*K]

  DispatchPlan plan;
  torch::Tensor kept_slots;  // slot ids that survive, any order
  if (capacity > 0) {
    // Order slots by (expert, k, token): the position within an expert's run
    // is the slot's priority.
    torch::Tensor order =
        std::get<1>(torch::sort(expert * (k * t) + rank * t + token));
    torch::Tensor sorted_expert = expert.index_select(0, order);
    torch::Tensor counts = torch::bincount(expert, {}, num_experts);
    torch::Tensor first = torch::cumsum(counts, 0) - counts;
    torch::Tensor position = torch::arange(t * k, index_options) -
                             first.index_select(0, sorted_expert);
    torch::Tensor keep_sorted = position < capacity;
    plan.keep = torch::zeros({t * k}, index_options.dtype(torch::kBool))
                    .index_put_({order}, keep_sorted)
                    .view({t, k});
    kept_slots = torch::nonzero(plan.keep.reshape({-1})).reshape({-1});
  } else {
    plan.keep = torch::ones({t, k}, index_options.dtype(torch::kBool));
    kept_slots = torch::arange(t * k, index_options);
  }

  torch::Tensor kept_expert = expert.index_select(0, kept_slots);
  torch::Tensor kept_token = token.index_select(0, kept_slots);
  torch::Tensor order = std::get<1>(torch::sort(kept_expert * t + kept_token));
  torch::Tensor slots = kept_slots.index_select(0, order);  // [S]
  plan.token = token.index_select(0, slots);
  plan.gate = gates.reshape({-1}).index_select(0, slots);

  torch::Tensor counts =
      torch::bincount(kept_expert, {}, num_experts).to(torch::kCPU);
  plan.expert_begin.assign(num_experts + 1, 0);
  auto c = counts.accessor<int64_t, 1>();
  for (int64_t e = 0; e < num_experts; ++e) {
    plan.expert_begin[e + 1] = plan.expert_begin[e] + c[e];
  }
  return plan;
}

}  // namespace vit_moe::model
