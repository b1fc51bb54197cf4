#include "eval/metrics.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

torch::Tensor Labels(std::vector<int64_t> v) {
  return torch::tensor(v, torch::kInt64);
}

TEST(MetricsTest, TopKAccuracy) {
  // Labels: 0, 1, 2. Ranks of the label: 1st, 3rd, 2nd.
  const torch::Tensor logits = torch::tensor(
      {{3.0, 1.0, 0.0, -1.0}, {2.0, 1.5, 1.0, 3.0}, {0.0, 1.0, 0.5, -2.0}});
  const torch::Tensor labels = Labels({0, 1, 2});
  EXPECT_DOUBLE_EQ(TopKAccuracy(logits, labels, 1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(TopKAccuracy(logits, labels, 2), 2.0 / 3);
  EXPECT_DOUBLE_EQ(TopKAccuracy(logits, labels, 3), 1.0);
  EXPECT_DOUBLE_EQ(TopKAccuracy(logits, labels, 5), 1.0);  // k capped at C
}

TEST(MetricsTest, NllOfUniformAndOfTemperature) {
  EXPECT_NEAR(MeanNll(torch::zeros({5, 4}), Labels({0, 1, 2, 3, 0})),
              std::log(4.0), 1e-12);
  // Two classes, logit gap 2 at T=2 is a gap of 1: -log(sigmoid(1)).
  const torch::Tensor logits = torch::tensor({{2.0, 0.0}});
  EXPECT_NEAR(MeanNll(logits, Labels({0}), 2.0), std::log1p(std::exp(-1.0)),
              1e-12);
}

TEST(MetricsTest, ConfusionCountsAndPerClassMetrics) {
  const torch::Tensor labels = Labels({0, 0, 0, 1, 1, 2, 2, 2, 2});
  const torch::Tensor predicted = Labels({0, 0, 1, 1, 2, 2, 2, 2, 0});
  const torch::Tensor confusion = ConfusionMatrix(predicted, labels, 4);
  const torch::Tensor expected = torch::tensor(
      {{2, 1, 0, 0}, {0, 1, 1, 0}, {1, 0, 3, 0}, {0, 0, 0, 0}}, torch::kInt64);
  EXPECT_TRUE(torch::equal(confusion, expected)) << confusion;

  const auto m = PerClassMetrics(confusion, {"a", "b", "c", "d"});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].name(), "a");
  EXPECT_EQ(m[0].support(), 3);
  EXPECT_DOUBLE_EQ(m[0].precision(), 2.0 / 3);  // column 0: 2 of 3
  EXPECT_DOUBLE_EQ(m[0].recall(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m[1].precision(), 0.5);
  EXPECT_DOUBLE_EQ(m[1].recall(), 0.5);
  EXPECT_DOUBLE_EQ(m[2].precision(), 0.75);
  EXPECT_DOUBLE_EQ(m[2].recall(), 0.75);
  EXPECT_DOUBLE_EQ(m[2].f1(), 0.75);
  // A class never seen nor predicted: zeros, not NaN.
  EXPECT_EQ(m[3].support(), 0);
  EXPECT_EQ(m[3].precision(), 0);
  EXPECT_EQ(m[3].f1(), 0);
}

TEST(MetricsTest, EceOnAConstructedSet) {
  // Two images at confidence 0.95 (bin 14), one right: gap 0.45.
  // Two at confidence 0.65 (bin 9), both right: gap 0.35.
  const torch::Tensor probabilities =
      torch::tensor({0.95, 0.05, 0.05, 0.95, 0.65, 0.35, 0.35, 0.65},
                    torch::kFloat64)
          .view({4, 2});
  const torch::Tensor labels = Labels({0, 0, 0, 1});
  const Calibration c = MeasureCalibration(probabilities, labels);
  EXPECT_NEAR(c.ece(), 0.5 * 0.45 + 0.5 * 0.35, 1e-12);
  ASSERT_EQ(c.bins_size(), 15);
  EXPECT_EQ(c.bins(14).count(), 2);
  EXPECT_NEAR(c.bins(14).accuracy(), 0.5, 1e-12);
  EXPECT_NEAR(c.bins(14).mean_confidence(), 0.95, 1e-12);
  EXPECT_NEAR(c.bins(14).upper(), 1.0, 1e-12);
  EXPECT_EQ(c.bins(9).count(), 2);
  EXPECT_NEAR(c.bins(9).accuracy(), 1.0, 1e-12);
  EXPECT_NEAR(c.bins(9).lower(), 0.6, 1e-12);
  int64_t total = 0;
  for (const auto& bin : c.bins()) total += bin.count();
  EXPECT_EQ(total, 4);
  const double nll =
      -(std::log(0.95) + std::log(0.05) + std::log(0.65) + std::log(0.65)) / 4;
  EXPECT_NEAR(c.nll(), nll, 1e-12);
  // Confidence exactly 1 falls in the last bin.
  EXPECT_EQ(MeasureCalibration(torch::tensor({{1.0, 0.0}}), Labels({0}))
                .bins(14)
                .count(),
            1);
}

TEST(MetricsTest, TemperatureScalingLowersNllOnAnOverconfidentSet) {
  // Labels drawn from softmax(base): base is calibrated, 4 * base is
  // overconfident, so the fitted temperature should be near 4.
  at::Generator gen = at::detail::createCPUGenerator(7);
  const torch::Tensor base =
      torch::randn({4000, 5}, gen, torch::kFloat64) * 1.5;
  const torch::Tensor labels =
      torch::multinomial(torch::softmax(base, 1), 1, true, gen).squeeze(1);
  const torch::Tensor overconfident = 4 * base;
  auto t = FitTemperature(overconfident, labels);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_NEAR(*t, 4.0, 0.4);
  const double before = MeanNll(overconfident, labels);
  const double after = MeanNll(overconfident, labels, *t);
  EXPECT_LT(after, before - 0.1);
  // The fitted T is a minimum: nudging it either way does not help.
  EXPECT_LE(after, MeanNll(overconfident, labels, *t * 1.05));
  EXPECT_LE(after, MeanNll(overconfident, labels, *t / 1.05));
  // ECE also drops.
  EXPECT_LT(
      MeasureCalibration(torch::softmax(overconfident / *t, 1), labels).ece(),
      MeasureCalibration(torch::softmax(overconfident, 1), labels).ece());

  EXPECT_FALSE(
      FitTemperature(torch::zeros({0, 3}), torch::zeros({0}, torch::kInt64))
          .ok());
  EXPECT_FALSE(FitTemperature(torch::full({1, 2}, NAN), Labels({0})).ok());
}

TEST(MetricsTest, AurcOfAPerfectRanking) {
  // Errors are the least confident: risks 0, 0, 1/3, 2/4.
  const torch::Tensor confidence = torch::tensor({0.9, 0.8, 0.7, 0.6});
  const torch::Tensor correct = torch::tensor({true, true, false, false});
  const SelectiveRisk r = MeasureSelectiveRisk(confidence, correct);
  EXPECT_NEAR(r.aurc, (1.0 / 3 + 0.5) / 4, 1e-12);
  ASSERT_EQ(r.curve.size(), 4u);
  EXPECT_DOUBLE_EQ(r.curve[1].coverage(), 0.5);
  EXPECT_DOUBLE_EQ(r.curve[1].risk(), 0);
  EXPECT_DOUBLE_EQ(r.curve[3].coverage(), 1.0);
  EXPECT_DOUBLE_EQ(r.curve[3].risk(), 0.5);
  // All correct: zero area.
  EXPECT_EQ(
      MeasureSelectiveRisk(confidence, torch::ones({4}, torch::kBool)).aurc, 0);
}

TEST(MetricsTest, AurcOfARandomRankingIsTheErrorRate) {
  // Averaged over every ordering of the confidences, the expected risk at
  // each coverage is the error rate, hence so is the expected AURC.
  std::vector<double> values = {0.1, 0.2, 0.3, 0.4, 0.5};
  const torch::Tensor correct = torch::tensor({true, false, true, true, false});
  double sum = 0;
  int orderings = 0;
  std::sort(values.begin(), values.end());
  do {
    sum += MeasureSelectiveRisk(torch::tensor(values), correct).aurc;
    ++orderings;
  } while (std::next_permutation(values.begin(), values.end()));
  EXPECT_EQ(orderings, 120);
  EXPECT_NEAR(sum / orderings, 2.0 / 5, 1e-12);
}

TEST(MetricsTest, RiskAtCoverage) {
  // 100 images, the 10 least confident wrong.
  const torch::Tensor confidence = torch::linspace(1.0, 0.01, 100);
  torch::Tensor correct = torch::ones({100}, torch::kBool);
  correct.slice(0, 90).fill_(false);
  const SelectiveRisk r = MeasureSelectiveRisk(confidence, correct, 10);
  EXPECT_DOUBLE_EQ(r.risk_at_90, 0.0);
  EXPECT_DOUBLE_EQ(r.risk_at_95, 5.0 / 95);
  EXPECT_DOUBLE_EQ(r.risk_at_99, 9.0 / 99);
  EXPECT_DOUBLE_EQ(RiskAtCoverage(confidence, correct, 0.95), 5.0 / 95);
  ASSERT_EQ(r.curve.size(), 10u);
  EXPECT_DOUBLE_EQ(r.curve.back().risk(), 0.1);
  // Ties keep input order: equal confidences, errors first in the input.
  EXPECT_DOUBLE_EQ(
      RiskAtCoverage(torch::ones({4}), torch::tensor({false, true, true, true}),
                     0.25),
      1.0);
}

TEST(MetricsTest, TemperatureSoftmaxDividesTheLogits) {
  const torch::Tensor logits = torch::tensor({{2.0f, 0.0f, -1.0f}});
  const torch::Tensor p = TemperatureSoftmax(logits, 2.0);
  EXPECT_EQ(p.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(
      p, torch::softmax(logits.to(torch::kFloat64) / 2.0, 1), 0, 1e-15));
  EXPECT_TRUE(torch::allclose(TemperatureSoftmax(logits, 1.0),
                              torch::softmax(logits.to(torch::kFloat64), 1)));
}

TEST(MetricsTest, ScaledConfidencesFollowTheTemperaturesOrder) {
  // A's runner-ups are close together, B's first runner-up is closer: at
  // T = 1 B is the more confident, at T = 0.25 A is, so the order must come
  // from the scaled confidences. A is right (label 0), B wrong (label 1).
  const torch::Tensor logits =
      torch::tensor({{1.0, 0.0, 0.0}, {0.5, 0.0, -100.0}});
  const torch::Tensor labels = torch::tensor({int64_t{0}, int64_t{1}});
  const auto confidence = [](double margin_1, double margin_2, double t) {
    return 1 / (1 + std::exp(-margin_1 / t) + std::exp(-margin_2 / t));
  };
  ScaledConfidences at_1 = MeasureScaledConfidences(logits, labels, 1.0);
  ASSERT_EQ(at_1.confidence_size(), 2);
  ASSERT_EQ(at_1.correct_size(), 2);
  EXPECT_NEAR(at_1.confidence(0), confidence(0.5, 100.5, 1.0), 1e-15);
  EXPECT_NEAR(at_1.confidence(1), confidence(1, 1, 1.0), 1e-15);
  EXPECT_FALSE(at_1.correct(0));
  EXPECT_TRUE(at_1.correct(1));
  ScaledConfidences at_quarter = MeasureScaledConfidences(logits, labels, 0.25);
  EXPECT_NEAR(at_quarter.confidence(0), confidence(1, 1, 0.25), 1e-15);
  EXPECT_NEAR(at_quarter.confidence(1), confidence(0.5, 100.5, 0.25), 1e-15);
  EXPECT_TRUE(at_quarter.correct(0));
  EXPECT_FALSE(at_quarter.correct(1));
}

}  // namespace
}  // namespace vit_moe::eval
