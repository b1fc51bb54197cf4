#include "eval/device_flag.h"

#include <torch/cuda.h>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(DeviceFlagTest, CpuAndCudaWhereItExists) {
  auto cpu = ParseDeviceFlag("cpu");
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_TRUE(cpu->is_cpu());
  auto cuda = ParseDeviceFlag("cuda:0");
  if (torch::cuda::is_available()) {
    ASSERT_TRUE(cuda.ok()) << cuda.status();
    EXPECT_TRUE(cuda->is_cuda());
  } else {
    EXPECT_EQ(cuda.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(cuda.status().message().find("--device=cuda:0: this LibTorch "
                                           "build or machine has no CUDA"),
              std::string::npos)
        << cuda.status();
  }
}

TEST(DeviceFlagTest, RefusesOtherNames) {
  for (const char* name : {"gpu", "", "cuda:x", "CPU0"}) {
    auto device = ParseDeviceFlag(name);
    EXPECT_EQ(device.status().code(), absl::StatusCode::kInvalidArgument)
        << name;
    EXPECT_NE(device.status().message().find("expected cpu, cuda or cuda:N"),
              std::string::npos)
        << device.status();
  }
}

}  // namespace
}  // namespace vit_moe::eval
