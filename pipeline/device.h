// Where and in which precision training runs: device choice (auto picks
// CUDA only when LibTorch was built with it and a GPU is visible), bf16
// autocast where the device computes bf16 natively (model/precision.h), and
// a GEMM probe that measures the matmul peak the model's FLOP/s is compared
// with.
#ifndef VIT_MOE_PIPELINE_DEVICE_H_
#define VIT_MOE_PIPELINE_DEVICE_H_

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "model/precision.h"
#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

// CPU, CUDA or AUTO -> a device; CUDA without a usable GPU is
// FailedPrecondition.
absl::StatusOr<torch::Device> ResolveDevice(Device requested);

// What `precision` gives on `device` (BF16_MIXED falls back to float32 on a
// CPU without native bf16, with a reason to log).
model::PrecisionChoice ResolvePrecision(Precision precision,
                                        const torch::Device& device);

// Best FLOP/s of single square matmuls (n = 1024 on CPU, 4096 on CUDA) in
// `repeats` rounds of about `seconds` each, in float32 or bf16 as training
// runs. Another process on the same cores lowers it: callers compare it
// with what the model reached.
double MeasureMatmulPeak(const torch::Device& device, bool bf16,
                         int repeats = 3, double seconds = 0.2);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_DEVICE_H_
