#include "model/precision.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

namespace vit_moe::model {
namespace {

TEST(ChoosePrecisionTest, Bf16OnACpuWithNativeBf16) {
  PrecisionChoice c = ChoosePrecision(true, torch::kCPU, true);
  EXPECT_TRUE(c.bf16);
  EXPECT_EQ(c.name, "bf16_mixed");
  EXPECT_TRUE(c.fallback_reason.empty());
}

TEST(ChoosePrecisionTest, Float32WithAReasonOnACpuWithoutIt) {
  PrecisionChoice c = ChoosePrecision(true, torch::kCPU, false);
  EXPECT_FALSE(c.bf16);
  EXPECT_EQ(c.name, "float32");
  EXPECT_NE(c.fallback_reason.find("avx512_bf16"), std::string::npos);
}

TEST(ChoosePrecisionTest, Float32WhenAskedFor) {
  for (bool native : {false, true}) {
    PrecisionChoice c = ChoosePrecision(false, torch::kCPU, native);
    EXPECT_FALSE(c.bf16);
    EXPECT_EQ(c.name, "float32");
    EXPECT_TRUE(c.fallback_reason.empty());
  }
}

TEST(ChoosePrecisionTest, CudaIgnoresTheCpuFeature) {
  PrecisionChoice c =
      ChoosePrecision(true, torch::Device(torch::kCUDA, 0), false);
  EXPECT_TRUE(c.bf16);
  EXPECT_TRUE(c.fallback_reason.empty());
}

TEST(PrecisionFromFlagTest, AcceptsTheTwoNamesOnly) {
  absl::StatusOr<PrecisionChoice> f32 =
      PrecisionFromFlag("float32", torch::kCPU);
  ASSERT_TRUE(f32.ok());
  EXPECT_FALSE(f32->bf16);
  absl::StatusOr<PrecisionChoice> bf16 =
      PrecisionFromFlag("bf16_mixed", torch::kCPU);
  ASSERT_TRUE(bf16.ok());
  EXPECT_EQ(bf16->bf16, CpuHasNativeBf16());
  absl::StatusOr<PrecisionChoice> bad = PrecisionFromFlag("fp16", torch::kCPU);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "--precision must be float32 or bf16_mixed (got \"fp16\")"),
            std::string::npos);
  absl::StatusOr<bool> upper = ParseBf16Flag("FLOAT32");
  ASSERT_TRUE(upper.ok());
  EXPECT_FALSE(*upper);
}

TEST(AutocastScopeTest, MatmulsRunInBf16InsideOnly) {
  torch::Tensor x = torch::randn({4, 8});
  torch::Tensor w = torch::randn({3, 8}, torch::requires_grad());
  {
    AutocastScope outer(true, torch::kCPU);
    EXPECT_EQ(torch::linear(x, w).scalar_type(), torch::kBFloat16);
    {
      AutocastScope inner(true, torch::kCPU);
      EXPECT_EQ(torch::matmul(x, w.t()).scalar_type(), torch::kBFloat16);
    }
    // Leaving the inner scope keeps the outer one on.
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
    // Parameters stay float32; their gradients too.
    torch::linear(x, w).to(torch::kFloat32).sum().backward();
  }
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(torch::linear(x, w).scalar_type(), torch::kFloat32);
  EXPECT_EQ(w.scalar_type(), torch::kFloat32);
  EXPECT_EQ(w.grad().scalar_type(), torch::kFloat32);
}

TEST(AutocastScopeTest, DisabledScopeChangesNothing) {
  AutocastScope scope(false, torch::kCPU);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(torch::mm(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(),
            torch::kFloat32);
}

}  // namespace
}  // namespace vit_moe::model
