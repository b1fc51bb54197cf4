#include "eval/gate_baseline.h"

#include "eval/baseline_correctness.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

// A report of `n` test images with these per-image outcomes.
EvaluationReport ReportOf(const std::vector<bool>& correct) {
  EvaluationReport r;
  r.set_split("test");
  r.set_num_images(correct.size());
  r.set_manifest_sha256("abc");
  int64_t right = 0;
  for (bool c : correct) right += c;
  r.set_top1_accuracy(static_cast<double>(right) / correct.size());
  r.mutable_per_image()->set_top1_correct(PackCorrectness(correct));
  return r;
}

GateThresholds BaselineThresholds(double max_drop, double significance) {
  GateThresholds t;
  t.set_baseline_max_drop(max_drop);
  t.set_baseline_significance(significance);
  return t;
}

// The hand-worked table: of 100 images both models get 80 right, the
// baseline alone 10, the new model alone 2 (8 both wrong). Drop (90 - 82) /
// 100 = 0.08; McNemar p = P(X >= 10), X ~ Binomial(12, 1/2) = 79 / 4096.
std::pair<EvaluationReport, EvaluationReport> HandWorkedPair() {
  std::vector<bool> baseline, now;
  auto add = [&](int count, bool b, bool n) {
    for (int i = 0; i < count; ++i) {
      baseline.push_back(b);
      now.push_back(n);
    }
  };
  add(80, true, true);
  add(10, true, false);
  add(2, false, true);
  add(8, false, false);
  return {ReportOf(now), ReportOf(baseline)};
}

TEST(GateBaselineTest, McNemarOnAHandWorkedTable) {
  const auto [now, baseline] = HandWorkedPair();
  const PairedComparison c = ComparePaired(now, baseline);
  EXPECT_EQ(c.images, 100);
  EXPECT_EQ(c.baseline_right, 90);
  EXPECT_EQ(c.new_right, 82);
  EXPECT_EQ(c.only_baseline_right, 10);
  EXPECT_EQ(c.only_new_right, 2);
  EXPECT_DOUBLE_EQ(c.drop(), 0.08);
  EXPECT_NEAR(c.p_value, 79.0 / 4096, 1e-14);
}

TEST(GateBaselineTest, FailsOnlyWhenTheDropIsPastTheMarginAndSignificant) {
  const auto [now, baseline] = HandWorkedPair();
  // p 0.0193 < 0.05 and 0.08 > 0.05: worse.
  GateResult r;
  CheckBaseline(now, &baseline, BaselineThresholds(0.05, 0.05), &r);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("baseline top1 drop 0.0800 (0.9000 -> 0.8200"),
            std::string::npos)
      << r.failures[0];
  EXPECT_NE(r.failures[0].find("McNemar p 0.0193"), std::string::npos)
      << r.failures[0];
  // Inside the margin: passes though significant.
  r = {};
  CheckBaseline(now, &baseline, BaselineThresholds(0.1, 0.05), &r);
  EXPECT_TRUE(r.passed());
  ASSERT_EQ(r.passes.size(), 1u);
  // Past the margin but not significant at 1%: passes.
  r = {};
  CheckBaseline(now, &baseline, BaselineThresholds(0.05, 0.01), &r);
  EXPECT_TRUE(r.passed());
  EXPECT_NE(r.passes[0].find("but not p < baseline_significance"),
            std::string::npos)
      << r.passes[0];
  // The better model against the worse: never a failure.
  r = {};
  CheckBaseline(baseline, &now, BaselineThresholds(0, 0.5), &r);
  EXPECT_TRUE(r.passed());
  // Set but not run: a failure, not a silent pass.
  r = {};
  CheckBaseline(now, nullptr, BaselineThresholds(0.05, 0.05), &r);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("no --baseline"), std::string::npos);
}

TEST(GateBaselineTest, RefusesAnotherSplitStoreOrImageCount) {
  const auto [now, baseline] = HandWorkedPair();
  EXPECT_TRUE(CheckSameImages(now, "new.pb", baseline, "old.pb").ok());
  EvaluationReport other = baseline;
  other.set_split("validation");
  absl::Status s = CheckSameImages(now, "new.pb", other, "old.pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--baseline=old.pb cannot be paired with new.pb: "
                             "it judged split 'validation'"),
            std::string::npos)
      << s.message();
  other = baseline;
  other.set_manifest_sha256("def");
  s = CheckSameImages(now, "new.pb", other, "old.pb");
  EXPECT_NE(s.message().find("manifest def"), std::string::npos) << s.message();
  other = baseline;
  other.set_num_images(99);
  EXPECT_FALSE(CheckSameImages(now, "new.pb", other, "old.pb").ok());
  other = baseline;
  other.clear_per_image();
  s = CheckSameImages(now, "new.pb", other, "old.pb");
  EXPECT_NE(s.message().find("holds no per-image correctness"),
            std::string::npos)
      << s.message();
}

TEST(GateBaselineTest, GateValidatesAndRunsTheBaselineCheck) {
  GateThresholds t = BaselineThresholds(0.015, 0.05);
  EXPECT_TRUE(ValidateThresholds(t, "t.textproto").ok());
  t.clear_baseline_significance();
  EXPECT_NE(ValidateThresholds(t, "t.textproto")
                .message()
                .find("baseline_max_drop and baseline_significance must be "
                      "set together"),
            std::string::npos);
  t = BaselineThresholds(0.015, 1.0);
  EXPECT_NE(ValidateThresholds(t, "t.textproto")
                .message()
                .find("baseline_significance must be in (0, 1)"),
            std::string::npos);
  t = BaselineThresholds(-0.1, 0.05);
  EXPECT_FALSE(ValidateThresholds(t, "t.textproto").ok());

  const auto [now, baseline] = HandWorkedPair();
  GateThresholds floors = BaselineThresholds(0.05, 0.05);
  floors.set_min_top1_accuracy(0.85);
  const GateResult r = CheckGate(now, floors, &baseline);
  EXPECT_EQ(r.failures.size(), 2u);  // the floor and the baseline
}

TEST(GateBaselineTest, BaselineReportKeepsWhatThePairingNeeds) {
  auto [now, baseline] = HandWorkedPair();
  now.set_nll(0.3);
  now.add_per_class()->set_name("Shirt");
  const EvaluationReport small = BaselineReport(now);
  EXPECT_EQ(small.per_class_size(), 0);
  EXPECT_EQ(small.nll(), 0);
  EXPECT_TRUE(CheckSameImages(now, "new.pb", small, "baseline").ok());
  EXPECT_EQ(ComparePaired(now, small).only_baseline_right, 0);
}

}  // namespace
}  // namespace vit_moe::eval
