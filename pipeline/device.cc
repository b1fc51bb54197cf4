#include "pipeline/device.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>

namespace vit_moe::pipeline {

absl::StatusOr<torch::Device> ResolveDevice(Device requested) {
  bool cuda = torch::cuda::is_available();
  if (requested == CUDA && !cuda) {
    return absl::FailedPreconditionError(
        "device CUDA was requested, but this LibTorch has no CUDA support or "
        "no GPU is visible (build with --config=cuda, or use --device=cpu)");
  }
  if (requested == CUDA || (requested == AUTO && cuda)) {
    return torch::Device(torch::kCUDA, 0);
  }
  return torch::Device(torch::kCPU);
}

model::PrecisionChoice ResolvePrecision(Precision precision,
                                        const torch::Device& device) {
  return model::ChoosePrecision(precision == BF16_MIXED, device);
}

double MeasureMatmulPeak(const torch::Device& device, bool bf16, int repeats,
                         double seconds) {
  torch::NoGradGuard no_grad;
  const int64_t n = device.is_cuda() ? 4096 : 1024;
  // A private generator: the probe must not move the global one that model
  // initialisation and dropout draw from.
  at::Generator generator = at::detail::createCPUGenerator(/*seed_val=*/1);
  torch::ScalarType dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
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
