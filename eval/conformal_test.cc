#include "eval/conformal.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(ConformalTest, ClassScoresByHand) {
  // Classes ranked 1, 0, 2 by probability.
  const torch::Tensor p = torch::tensor({{0.3, 0.5, 0.2}}, torch::kFloat64);
  const RapsSettings raps{/*k_reg=*/1, /*lambda=*/0.1};
  const torch::Tensor lac = ClassScores(p, ConformalScore::kLac, raps);
  const torch::Tensor aps = ClassScores(p, ConformalScore::kAps, raps);
  const torch::Tensor regularised = ClassScores(p, ConformalScore::kRaps, raps);
  const double want_lac[] = {0.7, 0.5, 0.8};
  // The mass ranked above each class: 0.5 above class 0, none above 1.
  const double want_aps[] = {0.5, 0.0, 0.8};
  // Ranks 2, 1, 3: penalties 0.1, 0, 0.2.
  const double want_raps[] = {0.6, 0.0, 1.0};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(lac[0][c].item<double>(), want_lac[c], 1e-12) << c;
    EXPECT_NEAR(aps[0][c].item<double>(), want_aps[c], 1e-12) << c;
    EXPECT_NEAR(regularised[0][c].item<double>(), want_raps[c], 1e-12) << c;
  }
  // APS threshold 0.5 holds the two most probable classes, RAPS's only
  // one; any threshold holds the top class.
  const torch::Tensor aps_set =
      PredictionSets(p, ConformalScore::kAps, raps, 0.5);
  EXPECT_TRUE(aps_set[0][0].item<bool>());
  EXPECT_TRUE(aps_set[0][1].item<bool>());
  EXPECT_FALSE(aps_set[0][2].item<bool>());
  EXPECT_EQ(
      PredictionSets(p, ConformalScore::kRaps, raps, 0.5).sum().item<int64_t>(),
      1);
  EXPECT_TRUE(
      PredictionSets(p, ConformalScore::kAps, raps, 0)[0][1].item<bool>());
}

TEST(ConformalTest, ThresholdIsTheCorrectedQuantile) {
  // Scores 1..19 (n = 19), shuffled: alpha 0.1 allows l = floor(20 * 0.1) =
  // 2 scores above the threshold, so it is the 18th smallest; alpha 0.05
  // allows 1 (the 19th).
  const torch::Tensor scores =
      torch::tensor({7., 3., 19., 1., 12., 5., 18., 2., 9., 4., 17., 6., 11.,
                     8., 16., 10., 15., 13., 14.},
                    torch::kFloat64);
  EXPECT_EQ(*ConformalThreshold(scores, 0.1), 18);
  EXPECT_EQ(*ConformalThreshold(scores, 0.05), 19);
  EXPECT_EQ(*ConformalThreshold(scores, 0.5), 10);
  // n = 19 < 1/0.01 - 1: no finite threshold.
  EXPECT_EQ(ConformalThreshold(scores, 0.01).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConformalTest, RefusesAlphaOutsideTheOpenUnitIntervalAndSmallSets) {
  for (double alpha :
       {0.0, 1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    const absl::Status s =
        CheckConformalAlpha(alpha, 1000, "--conformal_alphas");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << alpha;
    EXPECT_NE(s.message().find("--conformal_alphas: alpha must be in (0, 1)"),
              std::string::npos)
        << s.message();
  }
  EXPECT_TRUE(CheckConformalAlpha(0.01, 99, "x").ok());
  const absl::Status small = CheckConformalAlpha(0.01, 98, "x");
  EXPECT_EQ(small.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(small.message().find("needs at least 99 calibration images"),
            std::string::npos)
      << small.message();
  EXPECT_TRUE(CheckConformalAlpha(0.1, 9, "x").ok());
  EXPECT_FALSE(CheckConformalAlpha(0.1, 8, "x").ok());
}

TEST(ConformalTest, CoverageLawByHand) {
  // n = 9, alpha 0.1: l = 1, Beta(9, 1) with CDF x^9; mean 0.9.
  const CoverageLaw law = SplitConformalCoverageLaw(9, 0.1, 0.9);
  EXPECT_NEAR(law.mean, 0.9, 1e-12);
  EXPECT_NEAR(law.low, std::pow(0.05, 1.0 / 9), 1e-10);
  EXPECT_NEAR(law.high, std::pow(0.95, 1.0 / 9), 1e-10);
}

// Uniform scores: a threshold q covers a new score with probability exactly
// q, so each draw's coverage is known without test images. Over many draws
// it must follow the Beta law: its mean, and the share of draws inside and
// below the law's central 90% interval. An off-by-one rank (ceil(n (1 -
// alpha)) instead of ceil((n + 1)(1 - alpha))) moves the mean by 0.02,
// about 20 standard errors here.
TEST(ConformalTest, CoverageOfExchangeableScoresFollowsTheBetaLaw) {
  at::Generator gen = at::detail::createCPUGenerator(35);
  constexpr int kDraws = 4000;
  for (const auto& [n, alpha] : std::vector<std::pair<int64_t, double>>{
           {50, 0.1}, {200, 0.05}, {120, 0.01}}) {
    const CoverageLaw law = SplitConformalCoverageLaw(n, alpha, 0.9);
    int inside = 0, below = 0;
    double sum = 0;
    for (int d = 0; d < kDraws; ++d) {
      const torch::Tensor scores = torch::rand({n}, gen, torch::kFloat64);
      const double coverage = *ConformalThreshold(scores, alpha);
      sum += coverage;
      inside += coverage >= law.low && coverage <= law.high;
      below += coverage < law.low;
    }
    const int64_t l = static_cast<int64_t>(std::floor((n + 1) * alpha + 1e-9));
    const double a = n + 1 - l, b = l;
    const double sd = std::sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
    EXPECT_NEAR(sum / kDraws, law.mean, 4 * sd / std::sqrt(kDraws))
        << "n " << n << " alpha " << alpha;
    // Binomial(4000, 0.9) and (4000, 0.05): 4 standard deviations.
    EXPECT_NEAR(static_cast<double>(inside) / kDraws, 0.9, 0.019) << n;
    EXPECT_NEAR(static_cast<double>(below) / kDraws, 0.05, 0.014) << n;
  }
}

// The whole procedure on a synthetic classifier that is overconfident
// (labels drawn from softmax(z), sets built from softmax(3 z)): coverage
// holds anyway, for every score. Each draw's empirical coverage on m test
// images is its Beta-law coverage plus binomial noise; averaged over draws
// it must match the law's mean.
TEST(ConformalTest, SetsOfAMiscalibratedClassifierCoverAsTheLawSays) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  constexpr int kDraws = 100;
  constexpr int64_t kCalibration = 300, kTest = 2000, kClasses = 6;
  const double alpha = 0.1;
  const RapsSettings raps;
  for (ConformalScore score : AllConformalScores()) {
    double sum = 0;
    int below = 0;
    for (int d = 0; d < kDraws; ++d) {
      const torch::Tensor z =
          torch::randn({kCalibration + kTest, kClasses}, gen, torch::kFloat64);
      const torch::Tensor labels =
          torch::multinomial(torch::softmax(z, 1), 1, true, gen).squeeze(1);
      const torch::Tensor p = torch::softmax(3 * z, 1);
      auto result = MeasureConformal(
          p.slice(0, 0, kCalibration), labels.slice(0, 0, kCalibration),
          p.slice(0, kCalibration), labels.slice(0, kCalibration), score, raps,
          alpha, 0.95, 0.99);
      ASSERT_TRUE(result.ok()) << result.status();
      sum += result->coverage();
      below += result->coverage() < result->law_interval().low();
      EXPECT_EQ(result->covered(), [&] {
        int64_t total = 0;
        for (int64_t c : result->class_covered()) total += c;
        return total;
      }());
      ASSERT_EQ(result->set_size_images_size(), kClasses + 1);
    }
    const CoverageLaw law =
        SplitConformalCoverageLaw(kCalibration, alpha, 0.99);
    // Standard error of the mean: Beta sd ~0.017 and binomial ~0.0067.
    EXPECT_NEAR(sum / kDraws, law.mean, 4 * 0.0185 / std::sqrt(kDraws))
        << ConformalScoreName(score);
    EXPECT_LE(below, 5) << ConformalScoreName(score);
  }
}

TEST(ConformalTest, SplitIsSeededAndDisjoint) {
  const ConformalSplit a = SplitForConformal(11, 0.5, 3);
  const ConformalSplit b = SplitForConformal(11, 0.5, 3);
  const ConformalSplit c = SplitForConformal(11, 0.5, 4);
  EXPECT_EQ(a.calibration, b.calibration);
  EXPECT_NE(a.calibration, c.calibration);
  ASSERT_EQ(a.calibration.size(), 5u);
  ASSERT_EQ(a.test.size(), 6u);
  std::vector<bool> seen(11, false);
  for (int64_t i : a.calibration) seen[i] = true;
  for (int64_t i : a.test) {
    EXPECT_FALSE(seen[i]) << i;
    seen[i] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 11);
}

}  // namespace
}  // namespace vit_moe::eval
