#include "model/dropout.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vit_moe::model {
namespace {

// Share of non-zero elements.
double KeptShare(const torch::Tensor& t) {
  return t.ne(0).to(torch::kFloat64).mean().item<double>();
}

TEST(KeepMaskTest, KeepsTheRequestedShareScaledByItsInverse) {
  const int64_t n = 1 << 21;
  for (double keep : {0.5, 0.85, 0.9, 0.999}) {
    torch::Tensor mask = KeepMask({n}, keep, torch::kFloat32, 1234);
    const double sigma = std::sqrt(keep * (1 - keep) / n);
    EXPECT_NEAR(KeptShare(mask), keep, 5 * sigma) << "keep " << keep;
    torch::Tensor kept = mask.masked_select(mask.ne(0));
    EXPECT_TRUE(kept.eq(static_cast<float>(1.0 / keep)).all().item<bool>());
  }
}

TEST(KeepMaskTest, NeighboursAndHalvesAreIndependent) {
  const int64_t n = 1 << 21;
  const double keep = 0.7;
  torch::Tensor kept =
      KeepMask({n}, keep, torch::kFloat32, 99).ne(0).to(torch::kFloat64);
  // Elements 2j and 2j+1 share one 64-bit output; j and j+1 are adjacent
  // outputs of the stream.
  torch::Tensor pairs = kept.view({n / 2, 2});
  const double both_in_pair =
      (pairs.select(1, 0) * pairs.select(1, 1)).mean().item<double>();
  const double both_adjacent =
      (kept.narrow(0, 1, n - 2) * kept.narrow(0, 2, n - 2))
          .mean()
          .item<double>();
  const double sigma = std::sqrt(keep * keep * (1 - keep * keep) / (n / 2));
  EXPECT_NEAR(both_in_pair, keep * keep, 5 * sigma);
  EXPECT_NEAR(both_adjacent, keep * keep, 5 * sigma);
  // The stream's two halves are not copies of each other.
  EXPECT_FALSE(
      torch::equal(kept.narrow(0, 0, n / 2), kept.narrow(0, n / 2, n / 2)));
}

TEST(KeepMaskTest, DependsOnSeedNotOnThreads) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::Tensor one_thread = KeepMask({300001}, 0.85, torch::kFloat32, 7);
  at::set_num_threads(2);
  torch::Tensor two_threads = KeepMask({300001}, 0.85, torch::kFloat32, 7);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one_thread, two_threads));
  EXPECT_FALSE(
      torch::equal(one_thread, KeepMask({300001}, 0.85, torch::kFloat32, 8)));
}

TEST(KeepMaskTest, TakesTheRequestedDtype) {
  torch::Tensor mask = KeepMask({4, 5}, 0.9, torch::kBFloat16, 1);
  EXPECT_EQ(mask.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{4, 5}));
}

TEST(DropoutTest, IdentityInEvaluationAndAtZeroRate) {
  torch::Tensor x = torch::randn({8, 16});
  EXPECT_TRUE(torch::equal(Dropout(x, 0.3, /*training=*/false), x));
  EXPECT_TRUE(torch::equal(Dropout(x, 0.0, /*training=*/true), x));
  torch::Tensor b = torch::randn({8, 16});
  EXPECT_TRUE(torch::equal(AddDropPath(x, b, 0.3, /*training=*/false), x + b));
  EXPECT_TRUE(torch::equal(AddDropPath(x, b, 0.0, /*training=*/true), x + b));
}

TEST(DropoutTest, ZeroesAtTheRateAndKeepsTheExpectation) {
  torch::Tensor x = torch::ones({512, 1024});
  torch::Tensor y = Dropout(x, 0.15, /*training=*/true);
  EXPECT_NEAR(KeptShare(y), 0.85, 0.003);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.005);
}

TEST(DropoutTest, SameSeedSameMasksAndEachCallDrawsAnew) {
  torch::Tensor x = torch::ones({64, 64});
  torch::manual_seed(5);
  torch::Tensor first = Dropout(x, 0.5, true);
  torch::Tensor second = Dropout(x, 0.5, true);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(Dropout(x, 0.5, true), first));
  EXPECT_TRUE(torch::equal(Dropout(x, 0.5, true), second));
  EXPECT_FALSE(torch::equal(first, second));
}

TEST(DropoutTest, GradientIsTheMask) {
  torch::Tensor x = torch::randn({32, 48}).requires_grad_(true);
  torch::manual_seed(3);
  torch::Tensor y = Dropout(x, 0.25, true);
  y.sum().backward();
  const torch::Tensor& mask = x.grad();
  EXPECT_TRUE(
      torch::logical_or(mask.eq(0), mask.eq(static_cast<float>(1 / 0.75)))
          .all()
          .item<bool>());
  EXPECT_TRUE(torch::equal(y.detach(), x.detach() * mask));
}

TEST(DropoutTest, KeepsBfloat16) {
  torch::Tensor x = torch::ones({16, 16}, torch::kBFloat16);
  EXPECT_EQ(Dropout(x, 0.1, true).scalar_type(), torch::kBFloat16);
}

TEST(DropPathTest, DropsWholeSamplesOfTheBranch) {
  torch::Tensor x = torch::full({4000, 5, 6}, 2.0);
  torch::Tensor branch = torch::ones({4000, 5, 6}, torch::kBFloat16);
  torch::Tensor y = AddDropPath(x, branch, 0.1, true) - 2.0;
  // The branch's bf16 does not round the float32 scale.
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  torch::Tensor per_sample_max = y.amax({1, 2});
  torch::Tensor per_sample_min = y.amin({1, 2});
  EXPECT_TRUE(torch::equal(per_sample_max, per_sample_min));
  EXPECT_NEAR(KeptShare(per_sample_max), 0.9, 5 * std::sqrt(0.09 / 4000));
  torch::Tensor off_scale =
      torch::minimum(per_sample_max.abs(), (per_sample_max - 1 / 0.9).abs());
  EXPECT_LE(off_scale.max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace vit_moe::model
