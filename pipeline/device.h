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

// What this process sees of CUDA (tests inject their own).
struct CudaFacts {
  // LibTorch was built with CUDA and at least one GPU is visible.
  bool available = false;
  // Visible GPUs (after CUDA_VISIBLE_DEVICES).
  int device_count = 0;
};
CudaFacts QueryCudaFacts();

// CPU, CUDA or AUTO -> a device. On CUDA every process of a machine takes
// its own GPU, cuda:`local_rank` (LOCAL_RANK, 0 for a single process); CUDA
// without a usable GPU, or a local rank without a GPU of its own, is
// FailedPrecondition naming the counts.
absl::StatusOr<torch::Device> ResolveDevice(Device requested, int local_rank,
                                            const CudaFacts& cuda);
absl::StatusOr<torch::Device> ResolveDevice(Device requested, int local_rank);

// What `precision` gives on `device`: BF16_MIXED falls back to float32 on a
// CPU without native bf16 or a GPU older than compute capability 8.0;
// FP16_MIXED (fp16 autocast with a gradient scaler) runs on CUDA only and
// falls back to float32 on a CPU. Each fallback comes with a reason to log.
model::PrecisionChoice ResolvePrecision(Precision precision,
                                        const torch::Device& device);

// Best FLOP/s of single square matmuls (n = 1024 on CPU, 4096 on CUDA) in
// `repeats` rounds of about `seconds` each, in the precision training runs
// in (float32, bf16 or fp16). Another process on the same cores lowers it:
// callers compare it with what the model reached.
double MeasureMatmulPeak(const torch::Device& device,
                         const model::PrecisionChoice& precision,
                         int repeats = 3, double seconds = 0.2);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_DEVICE_H_
