#include "eval/gate.h"

#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

EvaluationReport GoodReport() {
  EvaluationReport r;
  r.set_split("test");
  r.set_num_images(10000);
  r.set_top1_accuracy(0.91);
  r.mutable_calibration_scaled()->set_ece(0.02);
  r.add_corruptions()->set_accuracy(0.7);
  r.set_mean_corruption_accuracy(0.7);
  for (const char* name : {"Shirt", "Bag"}) {
    ClassMetrics* c = r.add_per_class();
    c->set_name(name);
    c->set_recall(0.8);
  }
  r.add_risk_coverage();
  r.set_risk_at_95(0.05);
  r.mutable_latency()->set_batch1_p95_ms(3.0);
  return r;
}

GateThresholds AllThresholds() {
  GateThresholds t;
  t.set_min_top1_accuracy(0.9);
  t.set_max_ece(0.05);
  t.set_min_mean_corruption_accuracy(0.6);
  t.set_min_class_recall(0.7);
  t.set_max_risk_at_95(0.06);
  t.set_max_batch1_p95_ms(10);
  return t;
}

TEST(GateTest, PassesAGoodReport) {
  const GateResult r = CheckGate(GoodReport(), AllThresholds());
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(r.passes.size(), 7u);  // one recall line per class
}

TEST(GateTest, NamesEachFailedMetric) {
  EvaluationReport report = GoodReport();
  report.set_top1_accuracy(0.85);
  report.mutable_per_class(0)->set_recall(0.5);
  report.mutable_latency()->set_batch1_p95_ms(12);
  const GateResult r = CheckGate(report, AllThresholds());
  EXPECT_FALSE(r.passed());
  ASSERT_EQ(r.failures.size(), 3u);
  EXPECT_EQ(r.failures[0], "top1_accuracy 0.8500 < min_top1_accuracy 0.9000");
  EXPECT_EQ(r.failures[1],
            "class_recall[Shirt] 0.5000 < min_class_recall 0.7000");
  EXPECT_EQ(r.failures[2], "batch1_p95_ms 12.0000 > max_batch1_p95_ms 10.0000");
}

TEST(GateTest, AThresholdOnAnUnmeasuredMetricFails) {
  EvaluationReport report = GoodReport();
  report.clear_corruptions();
  report.clear_latency();
  const GateResult r = CheckGate(report, AllThresholds());
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_NE(r.failures[0].find("mean_corruption_accuracy is not in the report"),
            std::string::npos);
}

TEST(GateTest, RequiresTheSplitAndImageCountItIsGiven) {
  EvaluationReport report;
  report.set_split("validation");
  report.set_num_images(2000);
  report.set_top1_accuracy(0.99);
  GateThresholds t;
  t.set_min_top1_accuracy(0.9);
  t.set_split("test");
  t.set_min_images(10000);
  const GateResult r = CheckGate(report, t);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0], "split \"validation\" != split \"test\"");
  EXPECT_EQ(r.failures[1], "num_images 2000 < min_images 10000");
  report.set_split("test");
  report.set_num_images(10000);
  EXPECT_TRUE(CheckGate(report, t).passed());

  t.set_min_images(0);
  EXPECT_FALSE(ValidateThresholds(t, "t.textproto").ok());
}

TEST(GateTest, RejectsBadThresholds) {
  GateThresholds t;
  t.set_max_ece(1.5);
  absl::Status s = ValidateThresholds(t, "t.textproto");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("t.textproto"), std::string::npos);
  EXPECT_NE(s.message().find("max_ece"), std::string::npos);
  EXPECT_FALSE(ValidateThresholds(GateThresholds(), "empty").ok());

  const std::string path = ::testing::TempDir() + "/bad.textproto";
  ASSERT_TRUE(WriteFileAtomically(path, "min_top1_acuracy: 0.9\n").ok());
  auto read = ReadThresholds(path);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("min_top1_acuracy"),
            std::string::npos);
}

TEST(GateTest, ReadsBinaryAndTextReports) {
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteBinaryProto(dir + "/r.pb", GoodReport()).ok());
  ASSERT_TRUE(WriteTextProto(dir + "/r.textproto", GoodReport()).ok());
  for (const char* name : {"/r.pb", "/r.textproto"}) {
    auto report = ReadReport(dir + name);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_DOUBLE_EQ(report->top1_accuracy(), 0.91);
  }
  ASSERT_TRUE(WriteFileAtomically(dir + "/empty.pb", "").ok());
  auto empty = ReadReport(dir + "/empty.pb");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(empty.status().message().find("empty.pb"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe::eval
