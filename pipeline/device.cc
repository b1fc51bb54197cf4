#include "pipeline/device.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

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

bool UsesBf16Autocast(Precision precision, const torch::Device& device) {
  return precision == BF16_MIXED && device.is_cuda();
}

std::string PrecisionName(Precision precision, const torch::Device& device) {
  return UsesBf16Autocast(precision, device) ? "bf16_mixed" : "float32";
}

AutocastScope::AutocastScope(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Cached bf16 weight casts are only valid for this forward pass.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_enabled(was_enabled_);
}

double MeasureMatmulPeak(const torch::Device& device, bool bf16,
                         double seconds) {
  torch::NoGradGuard no_grad;
  int64_t n = device.is_cuda() ? 4096 : 512;
  // A private generator: the probe must not move the global one that model
  // initialisation and dropout draw from.
  at::Generator generator = at::detail::createCPUGenerator(/*seed_val=*/1);
  torch::ScalarType dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  torch::Tensor a =
      torch::randn({n, n}, generator, torch::kFloat32).to(device, dtype);
  torch::Tensor b =
      torch::randn({n, n}, generator, torch::kFloat32).to(device, dtype);
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  torch::matmul(a, b);  // warm-up: thread pool, BLAS buffers, kernels
  sync();
  double best = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    torch::matmul(a, b);
    sync();
    auto t1 = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(t1 - t0).count();
    if (dt > 0) best = std::max(best, 2.0 * n * n * n / dt);
    if (std::chrono::duration<double>(t1 - start).count() > seconds) break;
  }
  return best;
}

}  // namespace vit_moe::pipeline
