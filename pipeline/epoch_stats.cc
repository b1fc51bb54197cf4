#include "pipeline/epoch_stats.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vit_moe::pipeline {

torch::Tensor RoutingDiagnostics(const model::ModelOutput& out) {
  if (out.diagnostics.empty()) return torch::Tensor();
  std::vector<torch::Tensor> rows;
  for (const model::MoeDiagnostics& layer : out.diagnostics) {
    rows.push_back(torch::stack(
        {layer.dropped_fraction, layer.router_entropy, layer.z_loss}));
  }
  return torch::stack(rows).to(torch::kFloat);
}

void Accumulate(const StepStats& step, EpochAccumulator* sums) {
  sums->set_images(sums->images() + step.images);
  sums->set_correct(sums->correct() + step.correct);
  sums->set_loss_sum(sums->loss_sum() + step.loss * step.images);
  sums->set_balance_loss_sum(sums->balance_loss_sum() + step.balance_loss);
  sums->set_aux_loss_sum(sums->aux_loss_sum() + step.aux_loss);
  sums->set_grad_norm_sum(sums->grad_norm_sum() + step.grad_norm);
  sums->set_steps(sums->steps() + 1);
  sums->set_last_learning_rate(step.learning_rate);
  for (size_t layer = 0; layer < step.expert_load.size(); ++layer) {
    if (sums->expert_slots_size() <= static_cast<int>(layer)) {
      sums->add_expert_slots()->set_layer(static_cast<int>(layer));
    }
    LayerExpertLoad* slots = sums->mutable_expert_slots(layer);
    torch::Tensor load =
        step.expert_load[layer].detach().to(torch::kCPU, torch::kFloat64);
    auto values = load.accessor<double, 1>();
    for (int64_t e = 0; e < values.size(0); ++e) {
      if (slots->share_size() <= e) slots->add_share(0);
      slots->set_share(e, slots->share(e) + values[e]);
    }
  }
  if (!step.routing_diagnostics.defined()) return;
  torch::Tensor diagnostics =
      step.routing_diagnostics.detach().to(torch::kCPU, torch::kFloat64);
  auto rows = diagnostics.accessor<double, 2>();
  for (int64_t layer = 0; layer < rows.size(0); ++layer) {
    if (sums->routing_sums_size() <= layer) sums->add_routing_sums();
    LayerRoutingSums* layer_sums = sums->mutable_routing_sums(layer);
    layer_sums->set_dropped_slot_fraction(layer_sums->dropped_slot_fraction() +
                                          rows[layer][kDroppedSlotFraction]);
    layer_sums->set_router_entropy(layer_sums->router_entropy() +
                                   rows[layer][kRouterEntropy]);
    layer_sums->set_z_loss(layer_sums->z_loss() + rows[layer][kZLoss]);
  }
}

EpochMetrics FinishEpoch(int epoch, int64_t global_step,
                         const EpochAccumulator& sums) {
  EpochMetrics metrics;
  metrics.set_epoch(epoch);
  metrics.set_global_step(global_step);
  double steps = std::max<int64_t>(1, sums.steps());
  metrics.set_train_loss(RunningLoss(sums));
  metrics.set_train_accuracy(RunningAccuracy(sums));
  metrics.set_balance_loss(sums.balance_loss_sum() / steps);
  metrics.set_aux_loss(sums.aux_loss_sum() / steps);
  metrics.set_grad_norm(sums.grad_norm_sum() / steps);
  metrics.set_learning_rate(sums.last_learning_rate());
  for (int layer = 0; layer < sums.expert_slots_size(); ++layer) {
    const LayerExpertLoad& slots = sums.expert_slots(layer);
    LayerExpertLoad* share = metrics.add_expert_load();
    share->set_layer(slots.layer());
    double total = 0, most = 0;
    for (double v : slots.share()) {
      total += v;
      most = std::max(most, v);
    }
    for (double v : slots.share()) share->add_share(total > 0 ? v / total : 0);
    // max / mean of the shares, the mean being total / E.
    if (total > 0) share->set_load_imbalance(most * slots.share_size() / total);
    // A checkpoint written before routing_sums existed has none.
    if (layer >= sums.routing_sums_size()) continue;
    const LayerRoutingSums& routing = sums.routing_sums(layer);
    share->set_dropped_slot_fraction(routing.dropped_slot_fraction() / steps);
    share->set_router_entropy(routing.router_entropy() / steps);
    share->set_z_loss(routing.z_loss() / steps);
  }
  return metrics;
}

double RunningLoss(const EpochAccumulator& sums) {
  return sums.images() > 0 ? sums.loss_sum() / sums.images() : 0;
}

double RunningAccuracy(const EpochAccumulator& sums) {
  return sums.images() > 0 ? static_cast<double>(sums.correct()) / sums.images()
                           : 0;
}

std::string FormatRouting(const std::vector<torch::Tensor>& expert_load) {
  std::string text;
  for (size_t layer = 0; layer < expert_load.size(); ++layer) {
    torch::Tensor load =
        expert_load[layer].detach().to(torch::kCPU, torch::kFloat64);
    double total = load.sum().item<double>();
    absl::StrAppend(&text, layer == 0 ? "" : " | ", "layer ", layer, ":");
    auto values = load.accessor<double, 1>();
    for (int64_t e = 0; e < values.size(0); ++e) {
      absl::StrAppend(
          &text, absl::StrFormat(" %.2f", total > 0 ? values[e] / total : 0.0));
    }
  }
  return text;
}

std::string FormatRoutingSummary(const EpochMetrics& metrics) {
  const int layers = metrics.expert_load_size();
  if (layers == 0) return "";
  double dropped = 0, entropy = 0, imbalance = 0;
  for (const LayerExpertLoad& layer : metrics.expert_load()) {
    dropped += layer.dropped_slot_fraction();
    entropy += layer.router_entropy();
    imbalance += layer.load_imbalance();
  }
  return absl::StrFormat("routing drop %.1f%% entropy %.3f imbalance %.2f",
                         100 * dropped / layers, entropy / layers,
                         imbalance / layers);
}

}  // namespace vit_moe::pipeline
