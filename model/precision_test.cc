#include "model/precision.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace vit_moe::model {
namespace {

DeviceFacts Cpu(bool native_bf16) { return {native_bf16, 0, 0}; }
DeviceFacts Gpu(int major, int minor) { return {major >= 8, major, minor}; }

const torch::Device kCuda1(torch::kCUDA, 1);

TEST(ChoosePrecisionTest, Bf16OnACpuWithNativeBf16) {
  PrecisionChoice c =
      ChoosePrecision(PrecisionRequest::kBf16Mixed, torch::kCPU, Cpu(true));
  EXPECT_TRUE(c.bf16);
  EXPECT_FALSE(c.fp16);
  EXPECT_EQ(c.name, "bf16_mixed");
  EXPECT_TRUE(c.fallback_reason.empty());
}

TEST(ChoosePrecisionTest, Float32WithAReasonOnACpuWithoutIt) {
  PrecisionChoice c =
      ChoosePrecision(PrecisionRequest::kBf16Mixed, torch::kCPU, Cpu(false));
  EXPECT_FALSE(c.bf16);
  EXPECT_EQ(c.name, "float32");
  EXPECT_NE(c.fallback_reason.find("avx512_bf16"), std::string::npos);
}

TEST(ChoosePrecisionTest, Float32WhenAskedFor) {
  for (const DeviceFacts& facts : {Cpu(false), Cpu(true), Gpu(9, 0)}) {
    PrecisionChoice c = ChoosePrecision(
        PrecisionRequest::kFloat32,
        facts.cuda_major > 0 ? kCuda1 : torch::Device(torch::kCPU), facts);
    EXPECT_FALSE(c.bf16);
    EXPECT_FALSE(c.fp16);
    EXPECT_EQ(c.name, "float32");
    EXPECT_TRUE(c.fallback_reason.empty());
  }
}

TEST(ChoosePrecisionTest, Bf16OnAmpereAndNewerOnly) {
  for (auto [major, minor] :
       {std::pair{8, 0}, std::pair{8, 6}, std::pair{9, 0}}) {
    PrecisionChoice c = ChoosePrecision(PrecisionRequest::kBf16Mixed, kCuda1,
                                        Gpu(major, minor));
    EXPECT_TRUE(c.bf16) << major << "." << minor;
    EXPECT_TRUE(c.fallback_reason.empty());
  }
  // A V100 (7.0) or T4 (7.5): float32, naming the GPU, its capability and
  // the fp16 alternative.
  PrecisionChoice c =
      ChoosePrecision(PrecisionRequest::kBf16Mixed, kCuda1, Gpu(7, 5));
  EXPECT_FALSE(c.bf16);
  EXPECT_FALSE(c.fp16);
  EXPECT_EQ(c.name, "float32");
  EXPECT_NE(c.fallback_reason.find("cuda:1 has compute capability 7.5"),
            std::string::npos)
      << c.fallback_reason;
  EXPECT_NE(c.fallback_reason.find("FP16_MIXED"), std::string::npos);
}

TEST(ChoosePrecisionTest, Fp16OnCudaOnly) {
  for (const DeviceFacts& facts : {Gpu(7, 0), Gpu(9, 0)}) {
    PrecisionChoice c =
        ChoosePrecision(PrecisionRequest::kFp16Mixed, kCuda1, facts);
    EXPECT_TRUE(c.fp16);
    EXPECT_FALSE(c.bf16);
    EXPECT_EQ(c.name, "fp16_mixed");
    EXPECT_TRUE(c.fallback_reason.empty());
  }
  PrecisionChoice cpu =
      ChoosePrecision(PrecisionRequest::kFp16Mixed, torch::kCPU, Cpu(true));
  EXPECT_FALSE(cpu.fp16);
  EXPECT_EQ(cpu.name, "float32");
  EXPECT_NE(cpu.fallback_reason.find("runs on CUDA only"), std::string::npos);
}

TEST(ChoosePrecisionTest, CpuFactsComeFromTheCpu) {
  EXPECT_EQ(QueryDeviceFacts(torch::kCPU).native_bf16, CpuHasNativeBf16());
  EXPECT_EQ(QueryDeviceFacts(torch::kCPU).cuda_major, 0);
}

// How tests on an AVX-512 BF16 machine take an AVX2 machine's path.
TEST(CpuHasNativeBf16Test, OneDnnCappedBelowBf16MeansNone) {
  const char* saved = std::getenv("ONEDNN_MAX_CPU_ISA");
  const std::string restore = saved != nullptr ? saved : "";
  for (const char* isa : {"AVX2", "avx512_core", "AVX512_CORE_VNNI", "SSE41"}) {
    setenv("ONEDNN_MAX_CPU_ISA", isa, 1);
    EXPECT_FALSE(OneDnnMayUseBf16()) << isa;
    EXPECT_FALSE(CpuHasNativeBf16()) << isa;
    EXPECT_FALSE(QueryDeviceFacts(torch::kCPU).native_bf16) << isa;
  }
  for (const char* isa : {"AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"}) {
    setenv("ONEDNN_MAX_CPU_ISA", isa, 1);
    EXPECT_TRUE(OneDnnMayUseBf16()) << isa;
  }
  // ONEDNN_ wins over DNNL_, as in oneDNN.
  setenv("DNNL_MAX_CPU_ISA", "AVX2", 1);
  EXPECT_TRUE(OneDnnMayUseBf16());
  unsetenv("ONEDNN_MAX_CPU_ISA");
  EXPECT_FALSE(OneDnnMayUseBf16());
  unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_TRUE(OneDnnMayUseBf16());
  if (saved != nullptr) setenv("ONEDNN_MAX_CPU_ISA", restore.c_str(), 1);
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

TEST(AutocastScopeTest, Fp16IsForCudaOnly) {
  PrecisionChoice fp16;
  fp16.fp16 = true;
  fp16.name = "fp16_mixed";
  torch::Tensor x = torch::randn({4, 8});
  torch::Tensor w = torch::randn({3, 8});
  AutocastScope scope(fp16, torch::kCPU);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(torch::linear(x, w).scalar_type(), torch::kFloat32);
}

TEST(AutocastScopeTest, DisabledScopeChangesNothing) {
  AutocastScope scope(false, torch::kCPU);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(torch::mm(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(),
            torch::kFloat32);
}

}  // namespace
}  // namespace vit_moe::model
