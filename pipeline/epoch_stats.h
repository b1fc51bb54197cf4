// Per-epoch bookkeeping of training: running sums as steps complete (kept
// in the checkpoint's EpochAccumulator so a resumed epoch reports what an
// uninterrupted one would), then the finished EpochMetrics.
#ifndef VIT_MOE_PIPELINE_EPOCH_STATS_H_
#define VIT_MOE_PIPELINE_EPOCH_STATS_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/vit_moe.h"
#include "pipeline/checkpoint.pb.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

struct StepStats {
  int64_t images = 0;
  int64_t correct = 0;
  double loss = 0;  // mean classification loss of the step
  double balance_loss = 0;
  double aux_loss = 0;
  double grad_norm = 0;
  double learning_rate = 0;
  // Per MoE layer: [E] routed token slots per expert.
  std::vector<torch::Tensor> expert_load;
  // RoutingDiagnostics of the step (undefined: none).
  torch::Tensor routing_diagnostics;
};

// Columns of RoutingDiagnostics.
enum RoutingDiagnostic : int64_t {
  kDroppedSlotFraction = 0,
  kRouterEntropy = 1,
  kZLoss = 2,
  kNumRoutingDiagnostics = 3,
};

// [L, kNumRoutingDiagnostics] float, one row per MoE layer of `out`,
// detached and on the model's device, so a step reads them back in one
// transfer.
torch::Tensor RoutingDiagnostics(const model::ModelOutput& out);

// Adds one step to the running sums.
void Accumulate(const StepStats& step, EpochAccumulator* sums);

// Means and shares of the finished epoch (1-based `epoch`), without
// validation fields.
EpochMetrics FinishEpoch(int epoch, int64_t global_step,
                         const EpochAccumulator& sums);

// Running loss and accuracy for progress lines.
double RunningLoss(const EpochAccumulator& sums);
double RunningAccuracy(const EpochAccumulator& sums);

// "layer 0: 0.31 0.12 ... | layer 1: ..." shares of one step's load.
std::string FormatRouting(const std::vector<torch::Tensor>& expert_load);

// "routing drop 1.2% entropy 1.31 imbalance 1.08": the epoch's means over
// MoE layers; empty without MoE layers.
std::string FormatRoutingSummary(const EpochMetrics& metrics);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_EPOCH_STATS_H_
