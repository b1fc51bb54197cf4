// Where and in which precision training runs: device choice (auto picks
// CUDA only when LibTorch was built with it and a GPU is visible), bf16
// autocast on CUDA (float32 on CPU, where autocast would only slow the
// model down on this LibTorch), and a short GEMM probe that measures the
// matmul peak the model's FLOP/s is compared with.
#ifndef VIT_MOE_PIPELINE_DEVICE_H_
#define VIT_MOE_PIPELINE_DEVICE_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

// CPU, CUDA or AUTO -> a device; CUDA without a usable GPU is
// FailedPrecondition.
absl::StatusOr<torch::Device> ResolveDevice(Device requested);

// True when `precision` on `device` means bf16 autocast.
bool UsesBf16Autocast(Precision precision, const torch::Device& device);
// "bf16_mixed" or "float32": what actually runs.
std::string PrecisionName(Precision precision, const torch::Device& device);

// Enables CUDA bf16 autocast for its lifetime (no-op when disabled).
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
};

// Best FLOP/s of square matmuls (n=512 on CPU, 4096 on CUDA) over about
// `seconds`, in float32 or bf16 as training will run.
double MeasureMatmulPeak(const torch::Device& device, bool bf16,
                         double seconds = 0.3);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_DEVICE_H_
