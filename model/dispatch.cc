#include "model/dispatch.h"

#include <ATen/autocast_mode.h>

#include <cmath>

namespace vit_moe::model {

torch::Tensor CountValues(const torch::Tensor& values, int64_t bins) {
  torch::Tensor flat = values.reshape({-1});
  return torch::zeros({bins}, flat.options())
      .scatter_add_(0, flat, torch::ones_like(flat));
}

int64_t PaddedRows(int64_t rows) {
  if (!at::autocast::is_cpu_enabled()) return rows;
  return (rows + kRowBucket - 1) / kRowBucket * kRowBucket;
}

torch::Tensor PadIndex(const torch::Tensor& index, int64_t padded) {
  const int64_t s = index.size(0);
  if (padded == s) return index;
  return torch::cat({index, index.narrow(0, s - 1, 1).expand({padded - s})});
}

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
  if (capacity > 0) {
    // Order slots by (expert, k, token): the position within an expert's run
    // is the slot's priority.
    torch::Tensor order =
        std::get<1>(torch::sort(expert * (k * t) + rank * t + token));
    torch::Tensor sorted_expert = expert.index_select(0, order);
    torch::Tensor counts = CountValues(expert, num_experts);
    torch::Tensor first = torch::cumsum(counts, 0) - counts;
    torch::Tensor position = torch::arange(t * k, index_options) -
                             first.index_select(0, sorted_expert);
    torch::Tensor keep_sorted = position < capacity;
    plan.keep = torch::zeros({t * k}, index_options.dtype(torch::kBool))
                    .index_put_({order}, keep_sorted)
                    .view({t, k});
  } else {
    plan.keep = torch::ones({t, k}, index_options.dtype(torch::kBool));
  }

  // Dropped slots sort after every kept one (as if owned by expert E), so
  // the kept slots are a prefix and the per-expert counts - the one value
  // the host must read, for the slices - are the only device-to-host copy.
  torch::Tensor keep = plan.keep.reshape({-1});
  torch::Tensor owner = torch::where(keep, expert, num_experts);  // [T*K]
  torch::Tensor slots = std::get<1>(torch::sort(owner * t + token));
  torch::Tensor counts =
      CountValues(owner, num_experts + 1).to(torch::kCPU);  // [E + 1]
  plan.expert_begin.assign(num_experts + 1, 0);
  auto c = counts.accessor<int64_t, 1>();
  for (int64_t e = 0; e < num_experts; ++e) {
    plan.expert_begin[e + 1] = plan.expert_begin[e] + c[e];
  }
  slots = slots.narrow(0, 0, plan.expert_begin[num_experts]);  // [S]
  plan.token = token.index_select(0, slots);
  plan.gate = gates.reshape({-1}).index_select(0, slots);
  return plan;
}

}  // namespace vit_moe::model
