#include "pipeline/grad_scaler.h"

#include <glog/logging.h>

#include <algorithm>
#include <vector>

namespace vit_moe::pipeline {
namespace {

// The scale never drops below 1: a loss scaled below its own value would
// only lose range.
constexpr double kMinScale = 1.0;

}  // namespace

GradScaler::GradScaler(GradScalerState state, int64_t growth_interval)
    : state_(state), growth_interval_(growth_interval) {
  CHECK_GT(state_.scale, 0);
  CHECK_GT(growth_interval_, 0);
}

torch::Tensor GradScaler::Scale(const torch::Tensor& loss) const {
  return loss * state_.scale;
}

bool GradScaler::UnscaleAndUpdate(
    const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  const double inverse = 1.0 / state_.scale;
  std::vector<torch::Tensor> all_finite;
  for (const torch::Tensor& p : parameters) {
    torch::Tensor grad = p.grad();
    if (!grad.defined()) continue;
    grad.mul_(inverse);
    all_finite.push_back(torch::isfinite(grad).all());
  }
  // One host read per step, not one per tensor: on CUDA each is a wait for
  // the stream.
  const bool finite =
      all_finite.empty() || torch::stack(all_finite).all().item<bool>();
  if (!finite) {
    ++state_.skipped_steps;
    state_.good_steps = 0;
    state_.scale = std::max(kMinScale, state_.scale * 0.5);
    return false;
  }
  if (++state_.good_steps >= growth_interval_) {
    state_.scale *= 2.0;
    state_.good_steps = 0;
  }
  return true;
}

}  // namespace vit_moe::pipeline
