#include "eval/utilisation.h"

#include <glog/logging.h>

namespace vit_moe::eval {

UtilisationCounter::UtilisationCounter(int64_t num_classes, int64_t num_experts)
    : num_classes_(num_classes), num_experts_(num_experts) {
  CHECK_GT(num_classes, 0);
  CHECK_GT(num_experts, 0);
}

void UtilisationCounter::Add(const std::vector<torch::Tensor>& top_experts,
                             const torch::Tensor& labels) {
  if (counts_.empty()) {
    for (size_t i = 0; i < top_experts.size(); ++i) {
      counts_.push_back(
          torch::zeros({num_classes_, num_experts_}, torch::kInt64));
    }
  }
  CHECK_EQ(top_experts.size(), counts_.size()) << "MoE layer count changed";
  const torch::Tensor y = labels.to(torch::kCPU, torch::kInt64);
  for (size_t layer = 0; layer < top_experts.size(); ++layer) {
    const torch::Tensor experts = top_experts[layer].to(torch::kCPU);
    CHECK_EQ(experts.dim(), 3) << "top_experts must be [B, N, K]";
    CHECK_EQ(experts.size(0), y.size(0));
    // Cell id of each slot in the [C, E] table: class * E + expert.
    const torch::Tensor cell = y.view({-1, 1, 1}) * num_experts_ + experts;
    counts_[layer] += torch::bincount(cell.flatten(), /*weights=*/{},
                                      num_classes_ * num_experts_)
                          .view({num_classes_, num_experts_});
  }
}

std::vector<LayerUtilisation> UtilisationCounter::Result() const {
  std::vector<LayerUtilisation> result;
  for (size_t layer = 0; layer < counts_.size(); ++layer) {
    const torch::Tensor counts = counts_[layer].to(torch::kFloat64);
    LayerUtilisation u;
    u.set_layer(layer);
    const torch::Tensor per_expert = counts.sum(0);  // [E]
    const double total = per_expert.sum().item<double>();
    for (int64_t e = 0; e < num_experts_; ++e) {
      u.add_share(total > 0 ? per_expert[e].item<double>() / total : 0.0);
    }
    const torch::Tensor rows = counts.sum(1, /*keepdim=*/true).clamp_min(1);
    const torch::Tensor shares = (counts / rows).contiguous();  // [C, E]
    const double* p = shares.data_ptr<double>();
    u.mutable_per_class_share()->Add(p, p + shares.numel());
    result.push_back(std::move(u));
  }
  return result;
}

}  // namespace vit_moe::eval
