#include "eval/ood_metrics.h"

#include <random>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

// Worked by hand. Descending: 0.9 in, 0.8 in, 0.75 out, 0.7 in, 0.4 in,
// 0.3 out, 0.2 out.
const std::vector<double> kIn = {0.7, 0.9, 0.4, 0.8};
const std::vector<double> kOut = {0.3, 0.75, 0.2};

TEST(OodMetricsTest, AurocOfAHandWorkedExample) {
  // In-out pairs ranked right: 0.9 and 0.8 beat all 3 outs, 0.7 and 0.4
  // beat 2: 10 of 12.
  EXPECT_DOUBLE_EQ(Auroc(kIn, kOut), 10.0 / 12);
  EXPECT_DOUBLE_EQ(Auroc(kOut, kIn), 2.0 / 12);
}

TEST(OodMetricsTest, TiesCountHalf) {
  EXPECT_DOUBLE_EQ(Auroc({1, 1}, {1}), 0.5);
  EXPECT_DOUBLE_EQ(Auroc({2, 1}, {1, 0}), (2 + 0.5 + 1) / 4);
}

TEST(OodMetricsTest, FprAt95OfAHandWorkedExample) {
  // 95% of 4 in images = 3.8 -> all 4 must be accepted: threshold 0.4,
  // which accepts the out image 0.75.
  EXPECT_DOUBLE_EQ(AcceptanceThreshold(kIn, 0.95), 0.4);
  EXPECT_DOUBLE_EQ(FprAt95Tpr(kIn, kOut), 1.0 / 3);
  // Half of the in images: the 2nd largest.
  EXPECT_DOUBLE_EQ(AcceptanceThreshold(kIn, 0.5), 0.8);
  // 19 of 20 exactly, not 20 through rounding.
  std::vector<double> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i);
  EXPECT_DOUBLE_EQ(AcceptanceThreshold(twenty, 0.95), 2);
}

TEST(OodMetricsTest, AveragePrecisionOfAHandWorkedExample) {
  // In positive: precision at each in image 1/1, 2/2, 3/4, 4/5.
  EXPECT_DOUBLE_EQ(AveragePrecision(kIn, kOut), (1 + 1 + 0.75 + 0.8) / 4);
  // Out positive, by the negated score: 0.2, 0.3 first, then 0.75 fifth.
  std::vector<double> neg_in, neg_out;
  for (double v : kIn) neg_in.push_back(-v);
  for (double v : kOut) neg_out.push_back(-v);
  EXPECT_NEAR(AveragePrecision(neg_out, neg_in), (1 + 1 + 0.6) / 3, 1e-12);
}

TEST(OodMetricsTest, ARandomScoreOnShuffledLabelsIsChance) {
  // Scores drawn independently of which set an image is in: AUROC 0.5 up
  // to sampling noise (its std is about 0.004 at these sizes).
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::bernoulli_distribution is_in(0.5);
  std::vector<double> in, out;
  for (int i = 0; i < 20000; ++i) (is_in(rng) ? in : out).push_back(u(rng));
  EXPECT_NEAR(Auroc(in, out), 0.5, 0.015);
  EXPECT_NEAR(FprAt95Tpr(in, out), 0.95, 0.015);
  // A constant (identity-free) score: every pair a tie.
  EXPECT_DOUBLE_EQ(Auroc(std::vector<double>(10, 3), std::vector<double>(7, 3)),
                   0.5);
}

TEST(OodMetricsTest, PerfectSeparation) {
  EXPECT_DOUBLE_EQ(Auroc({5, 6}, {1, 2}), 1);
  EXPECT_DOUBLE_EQ(FprAt95Tpr({5, 6}, {1, 2}), 0);
  EXPECT_DOUBLE_EQ(AveragePrecision({5, 6}, {1, 2}), 1);
}

TEST(OodMetricsTest, RocRunsFromOriginToOneOne) {
  const RocCurve roc = Roc(kIn, kOut, 101);
  ASSERT_EQ(roc.fpr.size(), 8);  // origin + 7 distinct scores
  EXPECT_EQ(roc.fpr.front(), 0);
  EXPECT_EQ(roc.tpr.front(), 0);
  EXPECT_EQ(roc.fpr.back(), 1);
  EXPECT_EQ(roc.tpr.back(), 1);
  // After 0.9, 0.8, 0.75: TPR 2/4, FPR 1/3.
  EXPECT_DOUBLE_EQ(roc.tpr[3], 0.5);
  EXPECT_DOUBLE_EQ(roc.fpr[3], 1.0 / 3);
  const RocCurve few = Roc(kIn, kOut, 3);
  ASSERT_EQ(few.fpr.size(), 3);
  EXPECT_EQ(few.fpr.back(), 1);
}

}  // namespace
}  // namespace vit_moe::eval
