#include "augment/sample_random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vit_moe::augment {
namespace {

TEST(SampleRandomTest, SameKeySameSequenceOtherKeysDiffer) {
  SampleRandom a(1, 2, 3, RandomStream::kImageOps);
  SampleRandom b(1, 2, 3, RandomStream::kImageOps);
  SampleRandom other_epoch(1, 3, 3, RandomStream::kImageOps);
  SampleRandom other_item(1, 2, 4, RandomStream::kImageOps);
  SampleRandom other_stream(1, 2, 3, RandomStream::kErasing);
  for (int i = 0; i < 10; ++i) {
    uint64_t value = a.Next();
    EXPECT_EQ(value, b.Next());
    EXPECT_NE(value, other_epoch.Next());
    EXPECT_NE(value, other_item.Next());
    EXPECT_NE(value, other_stream.Next());
  }
}

TEST(SampleRandomTest, DistributionsHaveTheirMeans) {
  SampleRandom random(11, 0, 0, RandomStream::kMixing);
  const int n = 20000;
  double uniform = 0, below = 0, beta = 0, gamma_small = 0, normal = 0;
  for (int i = 0; i < n; ++i) {
    double u = random.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    uniform += u;
    int64_t k = random.Below(10);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 10);
    below += k;
    beta += random.Beta(2.0, 6.0);
    gamma_small += random.Gamma(0.5);
    normal += random.Normal();
  }
  EXPECT_NEAR(uniform / n, 0.5, 0.01);
  EXPECT_NEAR(below / n, 4.5, 0.06);
  EXPECT_NEAR(beta / n, 0.25, 0.01);
  EXPECT_NEAR(gamma_small / n, 0.5, 0.02);
  EXPECT_NEAR(normal / n, 0.0, 0.03);
}

}  // namespace
}  // namespace vit_moe::augment
