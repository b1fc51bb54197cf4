#include "eval/device_flag.h"

#include <torch/cuda.h>

namespace vit_moe::eval {

absl::StatusOr<torch::Device> ParseDeviceFlag(const std::string& name) {
  try {
    torch::Device device(name);
    if (device.is_cuda() && !torch::cuda::is_available()) {
      return absl::InvalidArgumentError(
          "--device=" + name + ": this LibTorch build or machine has no CUDA");
    }
    return device;
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError("--device=" + name +
                                      ": expected cpu, cuda or cuda:N");
  }
}

}  // namespace vit_moe::eval
