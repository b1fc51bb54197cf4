#include "eval/coverage_report.h"

#include <ATen/CPUGeneratorImpl.h>

#include "eval/baseline_correctness.h"
#include "eval/metrics.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(CoverageReportTest, CorrectnessBitsRoundTrip) {
  const std::vector<bool> correct = {true,  false, false, true,  true,
                                     false, true,  true,  false, true};
  const std::string bits = PackCorrectness(correct);
  ASSERT_EQ(bits.size(), 2u);
  // Images 0, 3, 4, 6, 7 in the first byte: 1 + 8 + 16 + 64 + 128.
  EXPECT_EQ(static_cast<unsigned char>(bits[0]), 217);
  EXPECT_EQ(static_cast<unsigned char>(bits[1]), 2);  // image 9
  EXPECT_EQ(UnpackCorrectness(bits, 10), correct);
}

TEST(CoverageReportTest, RefusesOptionsBeforeAnyWork) {
  CoverageOptions options;
  // 100 images, half calibrating: 50 < 99 that alpha 0.01 needs.
  absl::Status s = CheckCoverageOptions(options, 100);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--conformal_alphas: alpha 0.01 needs at least "
                             "99 calibration images"),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(CheckCoverageOptions(options, 198).ok());
  options.alphas = {0.1, 1.0};
  EXPECT_NE(CheckCoverageOptions(options, 10000)
                .message()
                .find("alpha must be in (0, 1) (got 1)"),
            std::string::npos);
  options.alphas = {0.1};
  options.calibration_fraction = 1;
  EXPECT_NE(CheckCoverageOptions(options, 10000)
                .message()
                .find("--conformal_calibration_fraction must be in (0, 1)"),
            std::string::npos);
  options.calibration_fraction = 0.5;
  options.raps.lambda = -1;
  EXPECT_FALSE(CheckCoverageOptions(options, 10000).ok());
}

TEST(CoverageReportTest, FillsIntervalsSetsAndBits) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const int64_t n = 1000, c = 4;
  const torch::Tensor z = torch::randn({n, c}, gen, torch::kFloat64) * 2;
  const torch::Tensor labels =
      torch::multinomial(torch::softmax(z, 1), 1, true, gen).squeeze(1);
  EvaluationReport report;
  report.set_top1_accuracy(TopKAccuracy(z, labels, 1));
  const torch::Tensor confusion = ConfusionMatrix(z.argmax(1), labels, c);
  for (int64_t i = 0; i < c * c; ++i) {
    report.add_confusion(confusion.view(-1)[i].item<int64_t>());
  }
  for (ClassMetrics& m : PerClassMetrics(confusion, {"a", "b", "c", "d"})) {
    *report.add_per_class() = m;
  }
  *report.mutable_calibration() =
      MeasureCalibration(torch::softmax(z, 1), labels);
  CoverageOptions options;
  options.alphas = {0.1, 0.05};
  options.bootstrap_resamples = 50;
  ASSERT_TRUE(AddCoverageSections(z, labels, 1.0, options, &report).ok());

  const IntervalStatistics& s = report.intervals();
  EXPECT_LT(s.top1_accuracy().low(), report.top1_accuracy());
  EXPECT_GT(s.top1_accuracy().high(), report.top1_accuracy());
  ASSERT_EQ(s.class_recall_size(), c);
  for (int i = 0; i < c; ++i) {
    EXPECT_LE(s.class_recall(i).low(), report.per_class(i).recall());
    EXPECT_GE(s.class_recall(i).high(), report.per_class(i).recall());
  }
  EXPECT_LE(s.ece().low(), s.ece().high());
  EXPECT_FALSE(s.has_ece_scaled());

  const ConformalReport& conformal = report.conformal();
  EXPECT_EQ(conformal.calibration_images(), 500);
  EXPECT_EQ(conformal.test_images(), 500);
  ASSERT_EQ(conformal.results_size(), 6);  // 3 scores x 2 alphas
  EXPECT_EQ(conformal.results(0).score(), "lac");
  EXPECT_EQ(conformal.results(5).score(), "raps");
  EXPECT_EQ(conformal.results(5).alpha(), 0.05);
  EXPECT_EQ(conformal.calibration_confidences().confidence_size(), 500);
  EXPECT_EQ(conformal.test_confidences().correct_size(), 500);
  // A smaller alpha needs a larger set.
  EXPECT_GT(conformal.results(1).mean_set_size(),
            conformal.results(0).mean_set_size());

  const std::vector<bool> bits =
      UnpackCorrectness(report.per_image().top1_correct(), n);
  int64_t right = 0;
  for (bool b : bits) right += b;
  EXPECT_EQ(right, std::llround(report.top1_accuracy() * n));
}

}  // namespace
}  // namespace vit_moe::eval
