// Dynamic loss scaling for fp16 autocast, as torch.cuda.amp.GradScaler
// does it: fp16 gradients below about 6e-8 flush to zero, so the loss is
// multiplied by a large scale before backward and the gradients divided by
// it before clipping and the optimizer step. A step whose gradients overflow
// (inf or NaN) is skipped and the scale halved; after `growth_interval`
// finite steps in a row the scale doubles. The state is three numbers, kept
// in checkpoints, so a resumed run scales exactly as an uninterrupted one.
#ifndef VIT_MOE_PIPELINE_GRAD_SCALER_H_
#define VIT_MOE_PIPELINE_GRAD_SCALER_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace vit_moe::pipeline {

struct GradScalerState {
  double scale = 65536.0;
  // Finite steps since the scale last changed.
  int64_t good_steps = 0;
  // Steps skipped for non-finite gradients, over the whole run.
  int64_t skipped_steps = 0;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerState state = {},
                      int64_t growth_interval = 2000);

  // loss * scale, for backward.
  torch::Tensor Scale(const torch::Tensor& loss) const;

  // Divides every defined gradient of `parameters` by the scale and
  // returns whether all of them are finite. Then updates the scale: a
  // non-finite step counts as skipped (the caller must not apply it) and
  // halves the scale; a finite one may double it.
  bool UnscaleAndUpdate(const std::vector<torch::Tensor>& parameters);

  const GradScalerState& state() const { return state_; }

 private:
  GradScalerState state_;
  int64_t growth_interval_;
};

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_GRAD_SCALER_H_
