#include "eval/statistics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(StatisticsTest, IncompleteBetaOfClosedForms) {
  // Beta(1, 1) is uniform; Beta(2, 1) has CDF x^2; Beta(1, 3) 1 - (1-x)^3.
  EXPECT_NEAR(RegularizedIncompleteBeta(1, 1, 0.3), 0.3, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(2, 1, 0.7), 0.49, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(1, 3, 0.2), 1 - 0.8 * 0.8 * 0.8, 1e-14);
  EXPECT_NEAR(BetaQuantile(2, 1, 0.25), 0.5, 1e-12);
  EXPECT_NEAR(BetaQuantile(1, 1, 0.9), 0.9, 1e-12);
}

TEST(StatisticsTest, BinomialCdfByHand) {
  // P(X <= 1), X ~ Binomial(100, 0.05): 0.95^100 + 100 * 0.05 * 0.95^99.
  const double by_hand = std::pow(0.95, 100) + 100 * 0.05 * std::pow(0.95, 99);
  EXPECT_NEAR(BinomialCdf(1, 100, 0.05), by_hand, 1e-13);
  EXPECT_NEAR(by_hand, 0.0370812, 1e-7);
  // Large n, where the continued fraction works hardest: exact sums of
  // the binomial terms (in log space) give 0.506896 and 0.010534.
  EXPECT_NEAR(BinomialCdf(4500, 5000, 0.9), 0.5068955233, 1e-9);
  EXPECT_NEAR(BinomialCdf(4450, 5000, 0.9), 0.0105335357, 1e-9);
  EXPECT_EQ(BinomialCdf(-1, 10, 0.5), 0);
  EXPECT_EQ(BinomialCdf(10, 10, 0.5), 1);
}

TEST(StatisticsTest, ClopperPearsonByHand) {
  // No error in n: P(Binomial(n, r) <= 0) = (1 - r)^n = delta, so the bound
  // is 1 - delta^(1/n): 0.258866 for n = 10, delta = 0.05.
  EXPECT_NEAR(ClopperPearsonUpper(0, 10, 0.05), 1 - std::pow(0.05, 0.1), 1e-12);
  EXPECT_NEAR(ClopperPearsonUpper(0, 10, 0.05), 0.2588655509, 1e-9);
  // 2 errors in 50: the r with P(X <= 2) = 0.05, solved by bisection over
  // the exact sum (1-r)^50 + 50 r (1-r)^49 + 1225 r^2 (1-r)^48.
  EXPECT_NEAR(ClopperPearsonUpper(2, 50, 0.05), 0.1206141554, 1e-9);
  const double r = ClopperPearsonUpper(2, 50, 0.05);
  EXPECT_NEAR(std::pow(1 - r, 50) + 50 * r * std::pow(1 - r, 49) +
                  1225 * r * r * std::pow(1 - r, 48),
              0.05, 1e-10);
  EXPECT_NEAR(ClopperPearsonUpper(3, 200, 0.1), 0.0330974702, 1e-9);
  EXPECT_EQ(ClopperPearsonUpper(5, 5, 0.1), 1);
}

TEST(StatisticsTest, McNemarByHand) {
  // Of 12 discordant images the baseline alone got 10 right: P(X >= 10) for
  // X ~ Binomial(12, 1/2) = (C(12,10) + C(12,11) + C(12,12)) / 2^12
  // = (66 + 12 + 1) / 4096.
  EXPECT_NEAR(McNemarWorsePValue(10, 2), 79.0 / 4096, 1e-14);
  // The mirror table, the new model better: P(X >= 2) = 1 - (1 + 12) / 4096.
  EXPECT_NEAR(McNemarWorsePValue(2, 10), 1 - 13.0 / 4096, 1e-14);
  EXPECT_EQ(McNemarWorsePValue(0, 7), 1);
  // A tie: P(X >= 5), X ~ Binomial(10, 1/2) = 638 / 1024.
  EXPECT_NEAR(McNemarWorsePValue(5, 5), 638.0 / 1024, 1e-14);
}

TEST(StatisticsTest, WilsonByHand) {
  // 8 of 10 at 95%: center (0.8 + z^2/20) / (1 + z^2/10), z = 1.959964.
  const ProportionInterval w = WilsonInterval(8, 10, 0.95);
  EXPECT_NEAR(w.low, 0.4901624715, 1e-8);
  EXPECT_NEAR(w.high, 0.9433178485, 1e-8);
  const ProportionInterval none = WilsonInterval(0, 0, 0.95);
  EXPECT_EQ(none.low, 0);
  EXPECT_EQ(none.high, 1);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
}

TEST(StatisticsTest, BootstrapIsSeededAndCoversTheMean) {
  // The mean of 0..99 (49.5): a 95% interval of about +-5.7 around it.
  auto mean = [](const std::vector<int64_t>& indices) {
    double sum = 0;
    for (int64_t i : indices) sum += i;
    return sum / indices.size();
  };
  const ProportionInterval a = BootstrapInterval(100, 500, 7, 0.95, mean);
  const ProportionInterval b = BootstrapInterval(100, 500, 7, 0.95, mean);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_LT(a.low, 49.5);
  EXPECT_GT(a.high, 49.5);
  EXPECT_NEAR(a.high - a.low, 2 * 1.96 * 28.87 / 10, 2.0);
  const ProportionInterval c = BootstrapInterval(100, 500, 8, 0.95, mean);
  EXPECT_NE(a.low, c.low);
}

}  // namespace
}  // namespace vit_moe::eval
