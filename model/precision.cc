#include "model/precision.h"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>

#ifdef VIT_MOE_HAVE_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace vit_moe::model {

bool OneDnnMayUseBf16() {
  // oneDNN's instruction sets below AVX512_CORE_BF16; ONEDNN_ wins over
  // DNNL_, as in oneDNN.
  constexpr absl::string_view kWithoutBf16[] = {
      "SSE41",           "AVX",         "AVX2",
      "AVX2_VNNI",       "AVX2_VNNI_2", "AVX512_CORE",
      "AVX512_CORE_VNNI"};
  for (const char* name : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const std::string isa = absl::AsciiStrToUpper(value);
    return std::find(std::begin(kWithoutBf16), std::end(kWithoutBf16), isa) ==
           std::end(kWithoutBf16);
  }
  return true;
}

bool CpuHasNativeBf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return (__builtin_cpu_supports("avx512bf16") ||
          __builtin_cpu_supports("amx-bf16")) &&
         OneDnnMayUseBf16();
#else
  return false;
#endif
}

DeviceFacts QueryDeviceFacts(const torch::Device& device) {
  DeviceFacts facts;
  if (device.is_cpu()) {
    facts.native_bf16 = CpuHasNativeBf16();
    return facts;
  }
#ifdef VIT_MOE_HAVE_CUDA
  if (device.is_cuda()) {
    const cudaDeviceProp* props =
        at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0);
    facts.cuda_major = props->major;
    facts.cuda_minor = props->minor;
    facts.native_bf16 = props->major >= 8;
  }
#endif
  return facts;
}

PrecisionChoice ChoosePrecision(PrecisionRequest request,
                                const torch::Device& device,
                                const DeviceFacts& facts) {
  PrecisionChoice choice;
  if (request == PrecisionRequest::kBf16Mixed) {
    if (facts.native_bf16) {
      choice.bf16 = true;
    } else if (device.is_cpu()) {
      choice.fallback_reason =
          "bf16_mixed was asked for, but this CPU has no native bfloat16 "
          "(neither avx512_bf16 nor amx_bf16 in /proc/cpuinfo, or "
          "ONEDNN_MAX_CPU_ISA caps oneDNN below them), where bf16 is slower "
          "than float32: running float32";
    } else {
      choice.fallback_reason = absl::StrCat(
          "bf16_mixed was asked for, but ", device.str(),
          " has compute capability ", facts.cuda_major, ".", facts.cuda_minor,
          " and bfloat16 needs 8.0 or newer: running float32 (precision: "
          "FP16_MIXED runs fp16 autocast with loss scaling instead)");
    }
  } else if (request == PrecisionRequest::kFp16Mixed) {
    if (device.is_cuda()) {
      choice.fp16 = true;
    } else {
      choice.fallback_reason = absl::StrCat(
          "fp16_mixed was asked for, but it runs on CUDA only (LibTorch's "
          "CPU autocast computes bfloat16), and this run is on ",
          device.str(), ": running float32");
    }
  }
  choice.name = choice.bf16   ? "bf16_mixed"
                : choice.fp16 ? "fp16_mixed"
                              : "float32";
  return choice;
}

PrecisionChoice ChoosePrecision(bool want_bf16, const torch::Device& device) {
  return ChoosePrecision(
      want_bf16 ? PrecisionRequest::kBf16Mixed : PrecisionRequest::kFloat32,
      device, QueryDeviceFacts(device));
}

absl::StatusOr<bool> ParseBf16Flag(absl::string_view flag) {
  const std::string lower = absl::AsciiStrToLower(flag);
  if (lower == "float32") return false;
  if (lower == "bf16_mixed") return true;
  return absl::InvalidArgumentError(absl::StrCat(
      "--precision must be float32 or bf16_mixed (got \"", flag, "\")"));
}

absl::StatusOr<PrecisionChoice> PrecisionFromFlag(absl::string_view flag,
                                                  const torch::Device& device) {
  absl::StatusOr<bool> bf16 = ParseBf16Flag(flag);
  if (!bf16.ok()) return bf16.status();
  return ChoosePrecision(*bf16, device);
}

AutocastScope::AutocastScope(bool bf16, const torch::Device& device)
    : AutocastScope(PrecisionChoice{bf16, false, "", ""}, device) {}

AutocastScope::AutocastScope(const PrecisionChoice& precision,
                             const torch::Device& device)
    : enabled_(precision.bf16 || (precision.fp16 && device.is_cuda())),
      cuda_(device.is_cuda()) {
  if (!enabled_) return;
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(precision.fp16 ? at::kHalf
                                                        : at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Cached bf16 copies of the weights are only valid for this forward pass.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  }
}

}  // namespace vit_moe::model
