#include "pipeline/device.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace vit_moe::pipeline {

CudaFacts QueryCudaFacts() {
  CudaFacts facts;
  facts.available = torch::cuda::is_available();
  facts.device_count =
      facts.available ? static_cast<int>(torch::cuda::device_count()) : 0;
  return facts;
}

absl::StatusOr<torch::Device> ResolveDevice(Device requested, int local_rank,
                                            const CudaFacts& cuda) {
  if (requested == CUDA && !cuda.available) {
    return absl::FailedPreconditionError(
        "device CUDA was requested, but this LibTorch has no CUDA support or "
        "no GPU is visible (build with --config=cuda, or use --device=cpu)");
  }
  if (requested == CPU || !cuda.available) return torch::Device(torch::kCPU);
  if (local_rank < 0 || local_rank >= cuda.device_count) {
    return absl::FailedPreconditionError(absl::StrCat(
        "LOCAL_RANK ", local_rank,
        " has no GPU of its own: ", cuda.device_count,
        " visible (CUDA_VISIBLE_DEVICES); start at most that many processes "
        "per machine, one per GPU"));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

absl::StatusOr<torch::Device> ResolveDevice(Device requested, int local_rank) {
  return ResolveDevice(requested, local_rank, QueryCudaFacts());
}

model::PrecisionChoice ResolvePrecision(Precision precision,
                                        const torch::Device& device) {
  model::PrecisionRequest request = model::PrecisionRequest::kFloat32;
  if (precision == BF16_MIXED) request = model::PrecisionRequest::kBf16Mixed;
  if (precision == FP16_MIXED) request = model::PrecisionRequest::kFp16Mixed;
  return model::ChoosePrecision(request, device,
                                model::QueryDeviceFacts(device));
}

double MeasureMatmulPeak(const torch::Device& device,
                         const model::PrecisionChoice& precision, int repeats,
                         double seconds) {
  torch::NoGradGuard no_grad;
  const int64_t n = device.is_cuda() ? 4096 : 1024;
  // A private generator: the probe must not move the global one that model
  // initialisation and dropout draw from.
  at::Generator generator = at::detail::createCPUGenerator(/*seed_val=*/1);
  torch::ScalarType dtype = precision.bf16   ? torch::kBFloat16
                            : precision.fp16 ? torch::kHalf
                                             : torch::kFloat32;
  torch::Tensor a =
      torch::randn({n, n}, generator, torch::kFloat32).to(device, dtype);
  torch::Tensor b =
      torch::randn({n, n}, generator, torch::kFloat32).to(device, dtype);
  torch::Tensor c = torch::empty({n, n}, a.options());
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  // Warm-up: thread pool, BLAS buffers, oneDNN's kernel for this shape.
  for (int i = 0; i < 2; ++i) torch::mm_out(c, a, b);
  sync();
  using Clock = std::chrono::steady_clock;
  double best = 0;
  for (int round = 0; round < repeats; ++round) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < 50; ++i) {
      const Clock::time_point t0 = Clock::now();
      torch::mm_out(c, a, b);
      sync();
      const double dt =
          std::chrono::duration<double>(Clock::now() - t0).count();
      if (dt > 0) best = std::max(best, 2.0 * n * n * n / dt);
      if (std::chrono::duration<double>(Clock::now() - start).count() >
          seconds) {
        break;
      }
    }
  }
  return best;
}

}  // namespace vit_moe::pipeline
