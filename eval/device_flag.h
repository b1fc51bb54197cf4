// The --device flag of the evaluation tools (//eval:evaluate,
// //eval:predict): one parser, so both accept the same names and refuse
// CUDA the same way where it is missing.
#ifndef VIT_MOE_EVAL_DEVICE_FLAG_H_
#define VIT_MOE_EVAL_DEVICE_FLAG_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"

namespace vit_moe::eval {

inline constexpr char kDeviceFlagHelp[] = "cpu, cuda or cuda:N.";

// "cpu", "cuda" or "cuda:N" as a device. InvalidArgument naming the value
// for anything else, and for CUDA when this LibTorch build or machine has
// none (rather than failing at the first tensor moved there).
absl::StatusOr<torch::Device> ParseDeviceFlag(const std::string& name);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_DEVICE_FLAG_H_
