#include "eval/report.h"

#include <cstdlib>

#include "common/atomic_file.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

EvaluationReport SampleReport() {
  EvaluationReport r;
  r.set_dataset("FASHION_MNIST");
  r.set_split("test");
  r.set_num_images(300);
  r.set_top1_accuracy(0.8);
  r.set_top5_accuracy(0.99);
  r.set_nll(0.6);
  const char* names[] = {"T-shirt/top", "Trouser", "Bag|Case"};
  const int confusion[] = {80, 15, 5, 10, 85, 5, 0, 25, 75};
  for (int i = 0; i < 3; ++i) {
    ClassMetrics* c = r.add_per_class();
    c->set_name(names[i]);
    c->set_support(100);
    c->set_recall(confusion[4 * i] / 100.0);
    c->set_precision(0.8);
    c->set_f1(0.8);
  }
  for (int v : confusion) r.add_confusion(v);
  for (Calibration* c :
       {r.mutable_calibration(), r.mutable_calibration_scaled()}) {
    for (int b = 0; b < 15; ++b) {
      ReliabilityBin* bin = c->add_bins();
      bin->set_lower(b / 15.0);
      bin->set_upper((b + 1) / 15.0);
      bin->set_count(b < 5 ? 0 : 20);
      bin->set_mean_confidence((b + 0.5) / 15);
      bin->set_accuracy(std::max(0.0, (b + 0.5) / 15 - 0.05));
    }
  }
  r.mutable_calibration()->set_ece(0.05);
  r.mutable_calibration_scaled()->set_ece(0.01);
  r.set_temperature(1.4);
  r.set_temperature_fit_images(500);
  for (int k = 1; k <= 20; ++k) {
    RiskCoveragePoint* p = r.add_risk_coverage();
    p->set_coverage(k / 20.0);
    p->set_risk(0.2 * k / 20.0 * k / 20.0);
  }
  r.set_aurc(0.07);
  r.set_risk_at_95(0.18);
  for (const char* name : {"gaussian_noise", "fog"}) {
    for (int s = 1; s <= 5; ++s) {
      CorruptionResult* c = r.add_corruptions();
      c->set_corruption(name);
      c->set_severity(s);
      c->set_accuracy(0.8 - 0.1 * s);
    }
  }
  r.set_mean_corruption_accuracy(0.5);
  r.set_corruption_images(100);
  r.set_corruption_clean_accuracy(0.82);
  for (int layer = 0; layer < 2; ++layer) {
    LayerUtilisation* u = r.add_utilisation();
    u->set_layer(layer);
    for (int e = 0; e < 4; ++e) u->add_share(0.1 + 0.1 * e);
    for (int i = 0; i < 12; ++i) u->add_per_class_share((i % 4 + 1) / 10.0);
  }
  r.mutable_latency()->set_batch1_p50_ms(2.5);
  r.mutable_latency()->set_batch1_p95_ms(3.5);
  r.mutable_latency()->set_batch_size(256);
  r.mutable_latency()->set_images_per_second(1234.5);
  r.mutable_latency()->set_device("cpu");
  return r;
}

TEST(ReportTest, WritesMarkdownAndEveryFigure) {
  const char* keep = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string dir =
      std::string(keep != nullptr ? keep : ::testing::TempDir()) + "/report";
  auto written = WriteReport(SampleReport(), dir);
  ASSERT_TRUE(written.ok()) << written.status();
  // report.md, confusion, per_class, 2 reliability, risk-coverage,
  // corruptions, expert share, 2 per-class layer maps.
  EXPECT_EQ(written->size(), 10u);
  for (const std::string& path : *written) {
    auto bytes = ReadFile(path);
    ASSERT_TRUE(bytes.ok()) << path;
    if (path.size() > 4 && path.substr(path.size() - 4) == ".png") {
      EXPECT_EQ(bytes->substr(1, 3), "PNG") << path;
      EXPECT_GT(bytes->size(), 5000u) << path;
    }
  }
  auto md = ReadFile(dir + "/report.md");
  ASSERT_TRUE(md.ok());
  for (const char* expected :
       {"# Evaluation report: FASHION_MNIST, test split",
        "| top-1 accuracy | 80.00% |", "| Bag\\|Case | 100 |", "T = 1.400",
        "figures/confusion.png",
        "| gaussian_noise | 70.00% | 60.00% | 50.00% | 40.00% | 30.00% | "
        "50.00% |",
        "figures/experts_by_class_layer_1.png", "1234.5 images/s"}) {
    EXPECT_NE(md->find(expected), std::string::npos) << expected << "\n" << *md;
  }
}

TEST(ReportTest, LeavesOutSectionsWithoutData) {
  EvaluationReport r = SampleReport();
  r.clear_corruptions();
  r.clear_utilisation();
  r.clear_latency();
  r.clear_calibration_scaled();
  const std::string md = RenderMarkdown(r, "figs");
  EXPECT_EQ(md.find("## Robustness"), std::string::npos);
  EXPECT_EQ(md.find("## Expert utilisation"), std::string::npos);
  EXPECT_EQ(md.find("## Latency"), std::string::npos);
  EXPECT_EQ(md.find("reliability_scaled"), std::string::npos);
  EXPECT_NE(md.find("figs/reliability.png"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe::eval
