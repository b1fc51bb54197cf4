#include "eval/risk_control.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

ScaledConfidences Calibration(const std::vector<std::pair<double, bool>>& v) {
  ScaledConfidences c;
  for (const auto& [confidence, correct] : v) {
    c.add_confidence(confidence);
    c.add_correct(correct);
  }
  return c;
}

TEST(RiskControlTest, HandWorkedCase) {
  // 100 right answers at confidence 0.95, then 100 at 0.5 of which 50 are
  // wrong. At max_risk 0.1, delta 0.1 (level 0.01 per chain): answering
  // only the 100 at 0.95 has p = 0.9^100 = 2.7e-5, rejected; answering all
  // 200 has 50 errors, far above 10%. The chains whose first candidate is
  // above 0.95 answer nothing and stop at once; chain 8 starts at t =
  // 1 - 10^(-6 + 6 * 800/999) = 0.936. The lowest candidate above 0.5 is
  // j = 948, t = 1 - 10^(-6 + 6 * 948/999) = 1 - 10^-0.306306 = 0.50604.
  std::vector<std::pair<double, bool>> v;
  for (int i = 0; i < 100; ++i) v.push_back({0.95, true});
  for (int i = 0; i < 100; ++i) v.push_back({0.5, i % 2 == 0});
  const RiskControlledAbstention a =
      ChooseAbstentionThreshold(Calibration(v), 0.1, 0.1);
  ASSERT_TRUE(a.found);
  EXPECT_NEAR(a.threshold, 1 - std::pow(10.0, -6.0 + 6.0 * 948 / 999), 1e-12);
  EXPECT_NEAR(a.threshold, 0.50604, 1e-5);
  EXPECT_EQ(a.answered, 100);
  EXPECT_EQ(a.errors, 0);
  EXPECT_DOUBLE_EQ(a.expected_coverage(), 0.5);
  // Clopper-Pearson with no error in 100 at 0.01: 1 - 0.01^(1/100).
  EXPECT_NEAR(a.risk_bound, 1 - std::pow(0.01, 0.01), 1e-10);
}

TEST(RiskControlTest, NothingAnsweredWhenNoThresholdIsSafe) {
  std::vector<std::pair<double, bool>> v;
  for (int i = 0; i < 50; ++i) v.push_back({0.9, i % 3 != 0});
  const RiskControlledAbstention a =
      ChooseAbstentionThreshold(Calibration(v), 0.05, 0.1);
  EXPECT_FALSE(a.found);
  EXPECT_EQ(a.answered, 0);
}

TEST(RiskControlTest, TooFewImagesForTheRiskAnswerNothing) {
  // 20 right answers cannot show a risk below 1%: 0.99^20 = 0.82.
  std::vector<std::pair<double, bool>> v(20, {0.99, true});
  EXPECT_FALSE(ChooseAbstentionThreshold(Calibration(v), 0.01, 0.1).found);
}

// Confidence U ~ U(0, 1), wrong with probability 1 - U: the risk among
// images answered at t is (1 - t) / 2, at most 0.1 exactly when t >= 0.8.
// Over many calibration draws, a threshold below 0.8 (a broken guarantee)
// must come at most delta of the time.
TEST(RiskControlTest, GuaranteeHoldsOverDraws) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  constexpr int kDraws = 200;
  constexpr int64_t kImages = 20000;
  const double delta = 0.1;
  int violations = 0;
  double threshold_sum = 0;
  for (int d = 0; d < kDraws; ++d) {
    const torch::Tensor u = std::get<0>(torch::sort(
        torch::rand({kImages}, gen, torch::kFloat64), 0, /*descending=*/true));
    const torch::Tensor right =
        (torch::rand({kImages}, gen, torch::kFloat64) < u).contiguous();
    ScaledConfidences calibration;
    calibration.mutable_confidence()->Add(u.data_ptr<double>(),
                                          u.data_ptr<double>() + kImages);
    calibration.mutable_correct()->Add(right.data_ptr<bool>(),
                                       right.data_ptr<bool>() + kImages);
    const RiskControlledAbstention a =
        ChooseAbstentionThreshold(calibration, 0.1, delta);
    ASSERT_TRUE(a.found);
    violations += a.threshold < 0.8;
    threshold_sum += a.threshold;
  }
  EXPECT_LE(violations, delta * kDraws);
  // Not uselessly cautious: on average it answers down to below 0.85.
  EXPECT_LT(threshold_sum / kDraws, 0.85);
}

TEST(RiskControlTest, CandidatesFallFromNearOneToZero) {
  const std::vector<double> t = AbstentionCandidates();
  ASSERT_EQ(t.size(), 1000u);
  EXPECT_NEAR(t.front(), 1 - 1e-6, 1e-15);
  EXPECT_EQ(t.back(), 0);
  for (size_t j = 1; j < t.size(); ++j) EXPECT_LT(t[j], t[j - 1]);
}

}  // namespace
}  // namespace vit_moe::eval
