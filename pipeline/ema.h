// An exponential moving average of a module's weights (as timm's ModelEma):
// after every optimizer step, average = d * average + (1 - d) * weight, in
// float32 whatever the compute precision, with the decay warmed up as
// d_t = min(decay, 1 - (1 + t)^-warmup_power) so the first updates are not
// dominated by the random initialisation. The averages are plain named
// tensors, so a checkpoint stores them byte-stably and a resumed run
// continues them exactly.
#ifndef VIT_MOE_PIPELINE_EMA_H_
#define VIT_MOE_PIPELINE_EMA_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/adamw.h"

namespace vit_moe::pipeline {

class WeightAverage {
 public:
  // Starts the averages at the module's current floating-point parameters
  // and buffers. `module` must outlive this object. decay in (0, 1);
  // warmup_power >= 0, 0 = the full decay from the first update.
  WeightAverage(torch::nn::Module& module, double decay, double warmup_power);

  // The decay applied by the update that completes optimizer step `step`
  // (1-based).
  double DecayAt(int64_t step) const;
  // Folds the module's current weights in, after optimizer step `step`.
  void Update(int64_t step);
  // Exchanges the module's weights with the averages: call once to evaluate
  // or save the averaged model, once more to continue training.
  void Swap();

  // The averages by module path, for checkpoints.
  NamedTensors StateTensors() const;
  // Restores what StateTensors returned; a missing, extra or misshapen
  // tensor is InvalidArgument naming it.
  absl::Status LoadStateTensors(const NamedTensors& state);

 private:
  double decay_, warmup_power_;
  NamedTensors live_;                   // the module's own tensors
  std::vector<torch::Tensor> average_;  // float32, same order as live_
};

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_EMA_H_
