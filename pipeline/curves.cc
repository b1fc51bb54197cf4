#include "pipeline/curves.h"

#include "absl/strings/str_cat.h"
#include "common/plot.h"
#include "common/status_macros.h"

namespace vit_moe::pipeline {

absl::Status WriteCurves(const std::string& output_dir,
                         const TrainingRun& run) {
  Series train_loss{"train (smoothed CE)", {}, {}};
  Series val_loss{"validation (CE)", {}, {}};
  Series train_acc{"train", {}, {}};
  Series val_acc{"validation", {}, {}};
  Series ema_loss{"validation, weight average (CE)", {}, {}};
  Series ema_acc{"validation, weight average", {}, {}};
  const bool ema = run.resolved_config().ema().decay() > 0;
  Series balance{"balance loss", {}, {}};
  Series aux{"weighted aux loss", {}, {}};
  Series val_balance{"validation balance", {}, {}};
  // Per MoE layer: router entropy, then load imbalance.
  std::vector<Series> routing;
  for (const LayerExpertLoad& layer : run.epochs(0).expert_load()) {
    routing.push_back(
        {absl::StrCat("layer ", layer.layer(), " entropy"), {}, {}});
    routing.push_back(
        {absl::StrCat("layer ", layer.layer(), " imbalance"), {}, {}});
  }
  for (const EpochMetrics& m : run.epochs()) {
    double x = m.epoch();
    train_loss.x.push_back(x);
    train_loss.y.push_back(m.train_loss());
    train_acc.x.push_back(x);
    train_acc.y.push_back(m.train_accuracy());
    balance.x.push_back(x);
    balance.y.push_back(m.balance_loss());
    aux.x.push_back(x);
    aux.y.push_back(m.aux_loss());
    for (int layer = 0; layer < m.expert_load_size(); ++layer) {
      Series& entropy = routing[2 * layer];
      Series& imbalance = routing[2 * layer + 1];
      entropy.x.push_back(x);
      entropy.y.push_back(m.expert_load(layer).router_entropy());
      imbalance.x.push_back(x);
      imbalance.y.push_back(m.expert_load(layer).load_imbalance());
    }
    if (m.has_validation()) {
      val_balance.x.push_back(x);
      val_balance.y.push_back(m.validation_balance_loss());
      val_loss.x.push_back(x);
      val_loss.y.push_back(m.validation_loss());
      val_acc.x.push_back(x);
      val_acc.y.push_back(m.validation_accuracy());
      if (ema) {
        ema_loss.x.push_back(x);
        ema_loss.y.push_back(m.ema_validation_loss());
        ema_acc.x.push_back(x);
        ema_acc.y.push_back(m.ema_validation_accuracy());
      }
    }
  }
  LineOptions with_markers;
  with_markers.markers = true;
  std::vector<Series> losses = {train_loss};
  std::vector<Series> accuracies = {train_acc};
  if (!val_loss.x.empty()) {
    losses.push_back(val_loss);
    accuracies.push_back(val_acc);
  }
  if (!ema_loss.x.empty()) {
    losses.push_back(ema_loss);
    accuracies.push_back(ema_acc);
  }
  RETURN_IF_ERROR(PlotLines(output_dir + "/loss.png", "Loss", "epoch", "loss",
                            losses, with_markers));
  LineOptions unit = with_markers;
  unit.y_min = 0;
  unit.y_max = 1;
  RETURN_IF_ERROR(PlotLines(output_dir + "/accuracy.png", "Accuracy", "epoch",
                            "accuracy", accuracies, unit));
  std::vector<Series> balances = {balance, aux};
  if (!val_balance.x.empty()) balances.push_back(val_balance);
  RETURN_IF_ERROR(PlotLines(output_dir + "/balance_loss.png",
                            "MoE balance loss", "epoch", "loss", balances,
                            with_markers));
  return PlotLines(output_dir + "/routing.png", "MoE routing", "epoch",
                   "entropy (nats), imbalance (max/mean)", routing,
                   with_markers);
}

}  // namespace vit_moe::pipeline
