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

// True when oneDNN may use bfloat16 instructions: ONEDNN_MAX_CPU_ISA (or
// DNNL_MAX_CPU_ISA), where set, names AVX512_CORE_BF16 or a later set.
bool OneDnnMayUseBf16();

// True when this CPU has native bfloat16 dot products (avx512_bf16 or
// amx_bf16 in /proc/cpuinfo) and oneDNN may use them. Capping oneDNN below
// them (ONEDNN_MAX_CPU_ISA=AVX2, with ATEN_CPU_CAPABILITY=avx2 for ATen's
// loops) gives an AVX-512 machine the float32 paths of an AVX2-only one,
// which is how tests cover both kinds of CPU on either.
bool CpuHasNativeBf16();

// What a device computes natively; tests inject their own.
struct DeviceFacts {
  // CPU: avx512_bf16 or amx_bf16. CUDA: compute capability 8.0 or newer
  // (Ampere); older GPUs emulate bf16 slowly or not at all.
  bool native_bf16 = false;
  // The GPU's compute capability (0.0 on a CPU), for messages.
  int cuda_major = 0;
  int cuda_minor = 0;
};
DeviceFacts QueryDeviceFacts(const torch::Device& device);

enum class PrecisionRequest { kFloat32, kBf16Mixed, kFp16Mixed };

struct PrecisionChoice {
  bool bf16 = false;  // bf16 autocast on
  // fp16 autocast on: fp16 gradients underflow, so training must scale the
  // loss (pipeline/grad_scaler.h).
  bool fp16 = false;
  // "bf16_mixed", "fp16_mixed" or "float32": what runs.
  std::string name;
  // Why a mixed precision was asked for but float32 runs; empty otherwise.
  std::string fallback_reason;
};

// What `request` gives on `device`: bf16 where the device computes it
// natively; fp16 on CUDA only (LibTorch's CPU autocast has no fp16);
// float32 with a fallback reason otherwise.
PrecisionChoice ChoosePrecision(PrecisionRequest request,
                                const torch::Device& device,
                                const DeviceFacts& facts);
// bf16 or float32 on `device`, with its real facts (the evaluation tools).
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

// Enables bf16 (or, on CUDA, fp16) autocast on `device`'s type for its
// lifetime; a no-op for float32. Scopes nest.
class AutocastScope {
 public:
  AutocastScope(bool bf16, const torch::Device& device);
  AutocastScope(const PrecisionChoice& precision, const torch::Device& device);
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
