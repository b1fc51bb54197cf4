// AdamW (decoupled weight decay, Loshchilov & Hutter) over named parameter
// groups, with its state kept in plain named tensors so a checkpoint can
// store it byte-stably and restore it exactly. Same arithmetic as
// torch.optim.AdamW (amsgrad off): a parameter whose gradient is undefined
// in a step (an expert no token chose) is skipped, moments and decay
// included, and keeps its own step count.
#ifndef VIT_MOE_PIPELINE_ADAMW_H_
#define VIT_MOE_PIPELINE_ADAMW_H_

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "model/tensor_record.h"
#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

using model::NamedTensors;

struct ParameterGroup {
  NamedTensors parameters;
  double weight_decay = 0;
  // The group's learning rate is this share of the rate given to Step (a
  // fine-tuned backbone learns slower than its new head); the decay
  // follows it, as in torch.optim.AdamW's per-group lr.
  double lr_scale = 1;
};

class AdamW {
 public:
  // Betas, epsilon from `config`; each group brings its own weight decay.
  AdamW(std::vector<ParameterGroup> groups, const OptimizerConfig& config);

  // Drops all gradients (undefined, not zero: see the class comment).
  void ZeroGrad();
  // One update with learning rate `lr` (times each group's lr_scale) from
  // the current gradients.
  void Step(double lr);

  // Moments and step counts as "<name>/exp_avg", "<name>/exp_avg_sq",
  // "<name>/step" (int64 scalar), in parameter order; parameters that never
  // had a gradient have no state.
  NamedTensors StateTensors() const;
  // Restores what StateTensors returned; unknown names, missing pieces and
  // shape mismatches are InvalidArgument naming the tensor.
  absl::Status LoadStateTensors(const NamedTensors& state);

 private:
  struct Slot {
    std::string name;
    torch::Tensor parameter;
    double weight_decay;
    double lr_scale;
    torch::Tensor exp_avg,
        exp_avg_sq;  // same shape as parameter; undefined until first grad
    int64_t step = 0;
  };
  std::vector<Slot> slots_;
  double beta1_, beta2_, epsilon_;
};

// Scales all gradients so their global L2 norm is at most `max_norm` (no
// scaling when max_norm <= 0). Returns the norm before scaling; it is
// non-finite when any gradient holds NaN or Inf.
double ClipGradientNorm(const std::vector<torch::Tensor>& parameters,
                        double max_norm);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_ADAMW_H_
