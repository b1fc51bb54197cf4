#include "eval/seed_summary.h"

#include <cmath>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

EvaluationReport Report(double top1, double coverage) {
  EvaluationReport r;
  r.set_split("test");
  r.set_num_images(10000);
  r.set_manifest_sha256("abc");
  r.set_top1_accuracy(top1);
  ConformalResult* c = r.mutable_conformal()->add_results();
  c->set_score("aps");
  c->set_alpha(0.1);
  c->set_coverage(coverage);
  c->set_mean_set_size(1.5);
  return r;
}

TEST(SeedSummaryTest, MeanAndSampleStandardDeviation) {
  const std::vector<EvaluationReport> reports = {
      Report(0.87, 0.90), Report(0.88, 0.91), Report(0.86, 0.89)};
  auto spreads = SummariseSeeds(reports, {"a", "b", "c"});
  ASSERT_TRUE(spreads.ok()) << spreads.status();
  const MetricSpread* top1 = nullptr;
  const MetricSpread* coverage = nullptr;
  for (const MetricSpread& s : *spreads) {
    if (s.name == "top1_accuracy") top1 = &s;
    if (s.name == "coverage_aps_alpha_0.1") coverage = &s;
    // Absent from these reports: not summarised as zeros.
    EXPECT_NE(s.name, "mean_corruption_accuracy");
  }
  ASSERT_NE(top1, nullptr);
  ASSERT_NE(coverage, nullptr);
  EXPECT_NEAR(top1->mean, 0.87, 1e-12);
  // Deviations -0.00, 0.01, -0.01: sqrt(0.0002 / 2) = 0.01.
  EXPECT_NEAR(top1->sd, 0.01, 1e-12);
  EXPECT_NEAR(coverage->sd, 0.01, 1e-12);
  const std::string md = RenderSeedSummary(*spreads, {"a", "b", "c"});
  EXPECT_NE(md.find("| top1_accuracy | 0.8700 | 0.0100 | 0.8600 | 0.8800 |"),
            std::string::npos)
      << md;
}

TEST(SeedSummaryTest, RefusesOneReportOrAnotherStore) {
  EXPECT_FALSE(SummariseSeeds({Report(0.8, 0.9)}, {"a"}).ok());
  EvaluationReport other = Report(0.8, 0.9);
  other.set_manifest_sha256("def");
  const auto s = SummariseSeeds({Report(0.8, 0.9), other}, {"a", "b"});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("b judged 10000 images"),
            std::string::npos)
      << s.status();
}

}  // namespace
}  // namespace vit_moe::eval
