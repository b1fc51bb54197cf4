#include "pipeline/numeric_environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(NumericEnvironmentTest, CapturesLibrariesVariablesAndCpu) {
  NumericEnvironment env = CaptureNumericEnvironment(2);
  EXPECT_FALSE(env.libtorch_version().empty());
  // LibTorch is linked against a BLAS, so one is mapped into this process.
  EXPECT_FALSE(env.blas_library().empty());
  EXPECT_FALSE(env.cpu_model().empty());
  EXPECT_EQ(env.threads(), 2);
  ASSERT_EQ(env.variables().count("OPENBLAS_CORETYPE"), 1u);
  const char* set = std::getenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(env.variables().at("OPENBLAS_CORETYPE"), set ? set : "");
}

TEST(NumericEnvironmentTest, NamesEachDifferingField) {
  NumericEnvironment a = CaptureNumericEnvironment(2);
  EXPECT_THAT(NumericEnvironmentDifferences(a, a), IsEmpty());
  NumericEnvironment b = a;
  (*b.mutable_variables())["OPENBLAS_CORETYPE"] = "Haswell";
  (*a.mutable_variables())["OPENBLAS_CORETYPE"] = "";
  b.set_threads(1);
  std::vector<std::string> lines = NumericEnvironmentDifferences(a, b);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "OPENBLAS_CORETYPE: \"\" recorded, \"Haswell\" now");
  EXPECT_THAT(lines[1], HasSubstr("threads: \"2\" recorded, \"1\" now"));
}

}  // namespace
}  // namespace vit_moe::pipeline
