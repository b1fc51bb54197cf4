#include "pipeline/device.h"

#include <gtest/gtest.h>

namespace vit_moe::pipeline {
namespace {

CudaFacts Gpus(int count) { return {count > 0, count}; }

TEST(ResolveDeviceTest, EachLocalRankTakesItsOwnGpu) {
  for (int local_rank = 0; local_rank < 4; ++local_rank) {
    for (Device requested : {CUDA, AUTO}) {
      absl::StatusOr<torch::Device> device =
          ResolveDevice(requested, local_rank, Gpus(4));
      ASSERT_TRUE(device.ok()) << device.status();
      EXPECT_EQ(device->str(), "cuda:" + std::to_string(local_rank));
    }
  }
}

TEST(ResolveDeviceTest, ALocalRankWithoutAGpuIsRefused) {
  absl::StatusOr<torch::Device> device = ResolveDevice(CUDA, 2, Gpus(2));
  ASSERT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(device.status().message().find("LOCAL_RANK 2 has no GPU of its "
                                           "own: 2 visible"),
            std::string::npos)
      << device.status();
  EXPECT_FALSE(ResolveDevice(AUTO, -1, Gpus(2)).ok());
}

TEST(ResolveDeviceTest, CpuWhereAskedForOrWithoutCuda) {
  for (int local_rank : {0, 3}) {
    EXPECT_EQ(ResolveDevice(CPU, local_rank, Gpus(8))->str(), "cpu");
    EXPECT_EQ(ResolveDevice(AUTO, local_rank, Gpus(0))->str(), "cpu");
  }
  absl::StatusOr<torch::Device> cuda = ResolveDevice(CUDA, 0, Gpus(0));
  ASSERT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(cuda.status().message().find("--device=cpu"), std::string::npos);
}

TEST(ResolveDeviceTest, RealFactsOnThisMachine) {
  const CudaFacts facts = QueryCudaFacts();
  EXPECT_EQ(facts.available, facts.device_count > 0);
  EXPECT_EQ(ResolveDevice(AUTO, 0)->is_cuda(), facts.available);
}

TEST(ResolvePrecisionTest, TrainConfigNamesMapToTheChoice) {
  EXPECT_EQ(ResolvePrecision(FLOAT32, torch::kCPU).name, "float32");
  // fp16 is CUDA's: on a CPU float32 runs, saying why.
  model::PrecisionChoice fp16 = ResolvePrecision(FP16_MIXED, torch::kCPU);
  EXPECT_EQ(fp16.name, "float32");
  EXPECT_FALSE(fp16.fallback_reason.empty());
  EXPECT_EQ(ResolvePrecision(BF16_MIXED, torch::kCPU).bf16,
            model::CpuHasNativeBf16());
}

TEST(MeasureMatmulPeakTest, MeasuresInThePrecisionInUse) {
  for (const char* name : {"float32", "bf16_mixed"}) {
    model::PrecisionChoice precision = ResolvePrecision(
        std::string(name) == "float32" ? FLOAT32 : BF16_MIXED, torch::kCPU);
    const double peak = MeasureMatmulPeak(torch::kCPU, precision, 1, 0.05);
    EXPECT_GT(peak, 1e8) << name;  // any CPU does 0.1 GFLOP/s
  }
}

}  // namespace
}  // namespace vit_moe::pipeline
