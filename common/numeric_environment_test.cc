#include "common/numeric_environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace vit_moe {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(NumericEnvironmentTest, CapturesLibrariesKernelsVariablesAndCpu) {
  NumericEnvironment env = CaptureNumericEnvironment(2, "cpu", "float32");
  EXPECT_FALSE(env.libtorch_version().empty());
  // LibTorch is linked against a BLAS, so one is mapped into this process.
  EXPECT_FALSE(env.blas_library().empty());
  if (env.blas_library().find("openblas") != std::string::npos) {
    EXPECT_FALSE(env.blas_core().empty());
  }
  EXPECT_THAT(env.aten_cpu_capability(),
              ::testing::AnyOf("DEFAULT", "AVX2", "AVX512"));
  EXPECT_FALSE(env.onednn().empty());
  EXPECT_FALSE(env.cpu_model().empty());
  EXPECT_EQ(env.threads(), 2);
  EXPECT_EQ(env.device(), "cpu");
  EXPECT_EQ(env.precision(), "float32");
  ASSERT_EQ(env.variables().count("OPENBLAS_CORETYPE"), 1u);
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(env.variables().at("OPENBLAS_CORETYPE"), set ? set : "");
  // Only a variable that is set is part of the one-line account.
  const std::string line = DescribeNumericEnvironment(env);
  EXPECT_THAT(line, HasSubstr(env.libtorch_version()));
  EXPECT_THAT(line, HasSubstr("2 threads, cpu, float32"));
  if (set != nullptr) {
    EXPECT_THAT(line, HasSubstr(std::string("OPENBLAS_CORETYPE=") + set));
  } else {
    EXPECT_THAT(line, ::testing::Not(HasSubstr("OPENBLAS_CORETYPE")));
  }
}

TEST(NumericEnvironmentTest, NamesEachDifferingField) {
  NumericEnvironment a = CaptureNumericEnvironment(2, "cpu", "float32");
  EXPECT_THAT(NumericEnvironmentDifferences(a, a), IsEmpty());
  NumericEnvironment b = a;
  (*b.mutable_variables())["OPENBLAS_CORETYPE"] = "Haswell";
  (*a.mutable_variables())["OPENBLAS_CORETYPE"] = "";
  b.set_threads(1);
  b.set_precision("bf16_mixed");
  std::vector<std::string> lines = NumericEnvironmentDifferences(a, b);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "OPENBLAS_CORETYPE: \"\" recorded, \"Haswell\" now");
  EXPECT_EQ(lines[1], "threads: \"2\" recorded, \"1\" now");
  EXPECT_EQ(lines[2], "precision: \"float32\" recorded, \"bf16_mixed\" now");
}

TEST(NumericEnvironmentTest, FieldsAnOlderRecordLacksAreNotBlamed) {
  NumericEnvironment now = CaptureNumericEnvironment(2, "cpu", "float32");
  NumericEnvironment old = now;
  old.clear_blas_core();
  old.clear_aten_cpu_capability();
  old.clear_onednn();
  old.clear_device();
  old.clear_precision();
  EXPECT_THAT(NumericEnvironmentDifferences(old, now), IsEmpty());
}

}  // namespace
}  // namespace vit_moe
