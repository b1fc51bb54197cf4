// Mixed precision: which devices compute bfloat16 natively, and the
// autocast scope that runs a forward pass in it.
//
// bf16 autocast casts the inputs of matmuls and convolutions to bfloat16
// and leaves parameters, optimizer state, losses and reductions in float32.
// On a CPU with AVX-512 BF16 (or AMX), LibTorch's oneDNN runs a bf16 matmul
// about 3.5x faster than OpenBLAS runs it in float32; on a CPU without
// native bf16 dot products it is emulated and slower than float32, so such
// CPUs fall back to float32.
#ifndef VIT_MOE_MODEL_PRECISION_H_
#define VIT_MOE_MODEL_PRECISION_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::model {

// True when this CPU has native bfloat16 dot products (avx512_bf16 or
// amx_bf16 in /proc/cpuinfo).
bool CpuHasNativeBf16();

struct PrecisionChoice {
  bool bf16 = false;  // bf16 autocast on
  // "bf16_mixed" or "float32": what runs.
  std::string name;
  // Why bf16 was asked for but float32 runs; empty otherwise.
  std::string fallback_reason;
};

// What a request for bf16 (or not) gives on `device`. `cpu_native_bf16` is
// CpuHasNativeBf16() outside tests.
PrecisionChoice ChoosePrecision(bool want_bf16, const torch::Device& device,
                                bool cpu_native_bf16);
PrecisionChoice ChoosePrecision(bool want_bf16, const torch::Device& device);

// Help of that flag, for the tools that define it.
inline constexpr char kPrecisionFlagHelp[] =
    "float32, or bf16_mixed (bf16 autocast where the device computes bf16 "
    "natively; float32 with a warning elsewhere).";

// A --precision value, "float32" or "bf16_mixed" (any case): whether it
// asks for bf16. InvalidArgument naming the value otherwise.
absl::StatusOr<bool> ParseBf16Flag(absl::string_view flag);

// The evaluation tools' --precision flag, resolved on `device`.
absl::StatusOr<PrecisionChoice> PrecisionFromFlag(absl::string_view flag,
                                                  const torch::Device& device);

// Enables bf16 autocast on `device`'s type for its lifetime; a no-op when
// `bf16` is false. Scopes nest.
class AutocastScope {
 public:
  AutocastScope(bool bf16, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool cuda_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_PRECISION_H_
