#include "pipeline/epoch_stats.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vit_moe::pipeline {

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
  for (const LayerExpertLoad& slots : sums.expert_slots()) {
    LayerExpertLoad* share = metrics.add_expert_load();
    share->set_layer(slots.layer());
    double total = 0;
    for (double v : slots.share()) total += v;
    for (double v : slots.share()) share->add_share(total > 0 ? v / total : 0);
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

}  // namespace vit_moe::pipeline
