#include "common/field_checker.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

using ::testing::HasSubstr;

TEST(FieldCheckerTest, NamesSourcePrefixFieldRuleAndValue) {
  FieldChecker check("model.", "run.textproto");
  check.Positive(2, "depth");
  EXPECT_TRUE(check.ok());
  check.InHalfOpenRange(1.5, 0, 1, "dropout");
  EXPECT_EQ(check.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(check.status().message(),
            "run.textproto: model.dropout must be in [0, 1) (got 1.5)");
}

TEST(FieldCheckerTest, KeepsTheFirstViolation) {
  FieldChecker check;
  check.Positive(0, "batch_size");
  check.NonNegative(-1, "threads");
  EXPECT_EQ(check.status().message(), "batch_size must be > 0 (got 0)");
}

TEST(FieldCheckerTest, EveryBoundRefusesNanAndInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {nan, inf, -inf}) {
    for (int kind = 0; kind < 6; ++kind) {
      FieldChecker check;
      switch (kind) {
        case 0:
          check.Positive(bad, "f");
          break;
        case 1:
          check.NonNegative(bad, "f");
          break;
        case 2:
          check.AtLeast(bad, -1e300, "f");
          break;
        case 3:
          check.AtMost(bad, 1e300, "f");
          break;
        case 4:
          check.InRange(bad, -1e300, 1e300, "f");
          break;
        default:
          check.InHalfOpenRange(bad, -1e300, 1e300, "f");
          break;
      }
      EXPECT_FALSE(check.ok()) << bad << " kind " << kind;
    }
  }
}

TEST(FieldCheckerTest, BoundsAreInclusiveWhereTheyClaimToBe) {
  FieldChecker check;
  check.InRange(1, 0, 1, "share");
  check.AtLeast(2, 2, "num_classes");
  check.AtMost(4, 4, "conv_stem_layers");
  check.NonNegative(0, "weight_decay");
  EXPECT_TRUE(check.ok()) << check.status();
  check.InHalfOpenRange(1, 0, 1, "beta1");
  EXPECT_THAT(check.status().message(), HasSubstr("beta1 must be in [0, 1)"));
  FieldChecker unset("model.");
  unset.RequireSet(false, "qkv_bias");
  EXPECT_EQ(unset.status().message(),
            "model.qkv_bias must be set (got nothing)");
}

}  // namespace
}  // namespace vit_moe
