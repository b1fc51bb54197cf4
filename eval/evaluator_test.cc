// End to end: a tiny store written with the data package's writer, its
// normalization, a randomly initialised tiny model saved with SaveModel,
// then Evaluate, the report writer and the predict path.
#include "eval/evaluator.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "data/normalization.h"
#include "data/pack.h"
#include "data/store.h"
#include "eval/metrics.h"
#include "eval/predict.h"
#include "eval/report.h"
#include "gtest/gtest.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/test_util.h"
#include "model/vit_moe.h"

namespace vit_moe::eval {
namespace {

constexpr int kSide = 8;
constexpr int kClasses = 3;

// Images whose mean brightness depends on the class, plus seeded noise.
data::ImageSet MakeImages(int per_class, uint32_t seed) {
  data::ImageSet set;
  uint32_t state = seed;
  for (int i = 0; i < per_class * kClasses; ++i) {
    const int label = i % kClasses;
    set.labels.push_back(label);
    for (int p = 0; p < kSide * kSide; ++p) {
      state = state * 1664525u + 1013904223u;
      set.pixels.push_back(40 + 70 * label + (state >> 26));
    }
  }
  return set;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/evaluator";
    data::ConvertedDataset converted;
    converted.dataset = data::FASHION_MNIST;
    converted.class_names = {"dark", "mid|grey", "light"};
    converted.height = converted.width = kSide;
    converted.channels = 1;
    converted.resize_method = "none";
    converted.train = MakeImages(8, 1);
    converted.test = MakeImages(6, 2);
    data::SplitIndices split;
    for (int64_t i = 0; i < converted.train.size(); ++i) {
      (i < 15 ? split.train : split.validation).push_back(i);
    }
    data::SplitRule rule;
    rule.set_method("first_15_train");
    ASSERT_TRUE(data::WriteStore(dir_, converted, split, rule, {}).ok());
    manifest_ = dir_ + "/" + data::kManifestFileName;
    auto store = data::DatasetStore::Open(manifest_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto norm = data::ComputeNormalization(*store);
    ASSERT_TRUE(norm.ok()) << norm.status();
    norm_ = *norm;
    normalization_ = dir_ + "/normalization.pb";
    ASSERT_TRUE(WriteBinaryProto(normalization_, norm_).ok());

    model::ModelConfig config = model::TinyConfig(model::BLOCK);
    config.set_in_channels(1);
    config.set_num_classes(kClasses);
    ASSERT_TRUE(model::ValidateModelConfig(config).ok());
    torch::manual_seed(11);
    model::ViTMoE net(config);
    model_ = dir_ + "/model.pt";
    ASSERT_TRUE(model::SaveModel(model_, net).ok());
  }

  EvaluateOptions Options() const {
    EvaluateOptions o;
    o.model_path = model_;
    o.manifest_path = manifest_;
    o.normalization_path = normalization_;
    o.batch_size = 5;  // 18 test images: a short last batch
    o.corruption_images = 7;
    o.corruption_seed = 3;
    o.latency_runs = 3;
    // 18 test images, 9 calibrating: enough for alpha 0.1 (n >= 9).
    o.coverage.alphas = {0.1};
    // OodAndAdversarialEvidence runs these.
    o.ood.images = 0;
    o.adversarial.images = 0;
    return o;
  }

  std::string dir_, manifest_, normalization_, model_;
  data::Normalization norm_;
};

TEST_F(EvaluatorTest, ReportMatchesAnIndependentForwardPass) {
  auto report = Evaluate(Options());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->split(), "test");
  EXPECT_EQ(report->dataset(), "FASHION_MNIST");
  ASSERT_EQ(report->num_images(), 18);

  // The same model run directly over the whole test split.
  auto net = model::LoadModel(model_, torch::kCPU);
  ASSERT_TRUE(net.ok());
  auto store = data::DatasetStore::Open(manifest_);
  ASSERT_TRUE(store.ok());
  const data::SplitData* test = *store->split("test");
  torch::NoGradGuard no_grad;
  const torch::Tensor logits =
      (*net)
          ->forward(
              data::NormalizeImages(test->images.permute({0, 3, 1, 2}), norm_))
          .logits;
  const torch::Tensor predicted = logits.argmax(1);
  EXPECT_NEAR(
      report->top1_accuracy(),
      (predicted == test->labels).to(torch::kFloat64).mean().item<double>(),
      1e-12);
  EXPECT_DOUBLE_EQ(report->top5_accuracy(), 1.0);  // 3 classes
  ASSERT_EQ(report->confusion_size(), kClasses * kClasses);
  for (int t = 0; t < kClasses; ++t) {
    for (int p = 0; p < kClasses; ++p) {
      const int64_t expected =
          ((test->labels == t) & (predicted == p)).sum().item<int64_t>();
      EXPECT_EQ(report->confusion(t * kClasses + p), expected);
    }
  }
  ASSERT_EQ(report->per_class_size(), kClasses);
  EXPECT_EQ(report->per_class(1).name(), "mid|grey");
  EXPECT_EQ(report->per_class(1).support(), 6);

  // Calibration, temperature on the 9 validation images, selective risk.
  EXPECT_EQ(report->calibration().bins_size(), 15);
  EXPECT_GT(report->temperature(), 0);
  EXPECT_EQ(report->temperature_fit_images(), 9);
  EXPECT_TRUE(report->has_calibration_scaled());
  EXPECT_EQ(report->risk_coverage_size(), 18);
  EXPECT_DOUBLE_EQ(report->risk_coverage(17).risk(),
                   1 - report->top1_accuracy());
  // One scaled confidence per image, most confident first, right as often
  // as top-1 (the temperature does not change the arg max).
  const ScaledConfidences& scaled = report->scaled_confidences();
  ASSERT_EQ(scaled.confidence_size(), 18);
  ASSERT_EQ(scaled.correct_size(), 18);
  EXPECT_TRUE(
      std::is_sorted(scaled.confidence().rbegin(), scaled.confidence().rend()));
  EXPECT_EQ(std::count(scaled.correct().begin(), scaled.correct().end(), true),
            std::lround(report->top1_accuracy() * 18));
  EXPECT_NEAR(
      scaled.confidence(0),
      TemperatureSoftmax(logits, report->temperature()).max().item<double>(),
      1e-6);

  // Robustness: 10 corruptions x 5 severities on the first 7 images.
  EXPECT_EQ(report->corruptions_size(), 50);
  EXPECT_EQ(report->corruption_images(), 7);
  EXPECT_NEAR(report->corruption_clean_accuracy(),
              (predicted.slice(0, 0, 7) == test->labels.slice(0, 0, 7))
                  .to(torch::kFloat64)
                  .mean()
                  .item<double>(),
              1e-12);

  // Routing: one entry per MoE layer (both layers), shares sum to 1.
  ASSERT_EQ(report->utilisation_size(), 2);
  double total = 0;
  for (double s : report->utilisation(0).share()) total += s;
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_EQ(report->utilisation(1).per_class_share_size(), kClasses * 4);

  EXPECT_GT(report->latency().batch1_p50_ms(), 0);
  EXPECT_GE(report->latency().batch1_p95_ms(),
            report->latency().batch1_p50_ms());
  EXPECT_GT(report->latency().images_per_second(), 0);
  EXPECT_EQ(report->checkpoint_sha256().size(), 64u);

  // The conformal sets and the per-image bits cover the same images.
  ASSERT_EQ(report->conformal().results_size(), 3);  // lac, aps, raps
  EXPECT_EQ(report->conformal().calibration_images(), 9);
  EXPECT_EQ(report->conformal().test_images(), 9);
  ASSERT_EQ(report->per_image().top1_correct().size(), 3u);  // 18 bits
  for (int64_t i = 0; i < 18; ++i) {
    const bool bit = (static_cast<unsigned char>(
                          report->per_image().top1_correct()[i / 8]) >>
                      (i % 8)) &
                     1;
    EXPECT_EQ(bit, (predicted[i] == test->labels[i]).item<bool>()) << i;
  }
  // Same inputs, same report (latency aside).
  auto again = Evaluate(Options());
  ASSERT_TRUE(again.ok());
  report->clear_latency();
  again->clear_latency();
  EXPECT_EQ(SerializeDeterministic(*report), SerializeDeterministic(*again));

  auto written = WriteReport(*report, dir_ + "/report");
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->size(), 10u);
}

TEST_F(EvaluatorTest, RefusesMismatchedArtifacts) {
  data::Normalization other = norm_;
  other.set_manifest_sha256("0123");
  ASSERT_TRUE(WriteBinaryProto(dir_ + "/other.pb", other).ok());
  EvaluateOptions o = Options();
  o.normalization_path = dir_ + "/other.pb";
  auto report = Evaluate(o);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("other.pb"), std::string::npos);

  model::ModelConfig config = model::TinyConfig(model::FFN);  // 3 channels
  config.set_num_classes(kClasses);
  model::ViTMoE net(config);
  ASSERT_TRUE(model::SaveModel(dir_ + "/rgb.pt", net).ok());
  o = Options();
  o.model_path = dir_ + "/rgb.pt";
  report = Evaluate(o);
  // data::CheckModelFitsStore: the one form of every artifact-pair refusal.
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("rgb.pt"), std::string::npos);
}

TEST_F(EvaluatorTest, RefusesAnAlphaTooSmallForTheCalibrationImages) {
  EvaluateOptions o = Options();
  o.coverage.alphas = {0.1, 0.05};  // 0.05 needs 19 calibration images
  auto report = Evaluate(o);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find(
                "alpha 0.05 needs at least 19 calibration images"),
            std::string::npos)
      << report.status();
}

TEST_F(EvaluatorTest, OodAndAdversarialEvidence) {
  EvaluateOptions o = Options();
  o.corruption_images = 0;
  o.latency_runs = 0;
  o.ood.images = 10;
  o.ood.knn_k = 4;
  o.ood.manifest_path = manifest_;  // the store itself as a fourth source
  o.ood.split = "train";
  o.adversarial.images = 6;
  o.adversarial.linf_epsilons = {2.0 / 255, 8.0 / 255};
  o.adversarial.l2_epsilons = {0.5};
  o.adversarial.apgd_iterations = 10;
  o.adversarial.square_queries = 20;
  auto report = Evaluate(o);
  ASSERT_TRUE(report.ok()) << report.status();
  const OodDetection& ood = report->ood();
  EXPECT_EQ(ood.in_distribution_images(), 18);
  EXPECT_EQ(ood.fit_images(), 15);  // the whole train split
  EXPECT_EQ(ood.knn_k(), 4);
  EXPECT_EQ(ood.threshold_split(), "validation");
  EXPECT_EQ(ood.threshold_images(), 9);
  ASSERT_EQ(ood.sources_size(), 4);
  EXPECT_EQ(ood.sources(0).name(), "noise");
  EXPECT_EQ(ood.sources(0).images(), 10);
  EXPECT_EQ(ood.sources(3).name(), "store:FASHION_MNIST/train");
  EXPECT_EQ(ood.sources(3).images(), 10);
  ASSERT_EQ(ood.scores_size(), 6);  // router_entropy: the model has MoE
  EXPECT_EQ(ood.scores(5).score(), "router_entropy");
  ASSERT_EQ(ood.results_size(), 6 * 4);
  for (const OodResult& r : ood.results()) {
    EXPECT_GE(r.auroc(), 0);
    EXPECT_LE(r.auroc(), 1);
    EXPECT_TRUE(r.has_rejection_rate());
    EXPECT_EQ(r.roc_fpr().size(), r.roc_tpr().size());
  }
  const AdversarialRobustness& adv = report->adversarial();
  EXPECT_EQ(adv.images(), 6);
  EXPECT_EQ(adv.attacks_size(), 2 * 4 + 1);
  EXPECT_EQ(adv.robust_size(), 3);
  ASSERT_EQ(adv.checks_size(), 4);
  EXPECT_EQ(adv.checks(0).check(), "epsilon_zero_is_clean");
  // The pixel path reproduces the evaluation's verdicts exactly.
  EXPECT_TRUE(adv.checks(0).passed()) << adv.checks(0).detail();
  EXPECT_GE(adv.routing_change_share(), 0);
  EXPECT_LE(adv.routing_change_share(), 1);

  auto again = Evaluate(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeDeterministic(report->ood()),
            SerializeDeterministic(again->ood()));
  EXPECT_EQ(SerializeDeterministic(report->adversarial()),
            SerializeDeterministic(again->adversarial()));

  auto written = WriteReport(*report, dir_ + "/safety");
  ASSERT_TRUE(written.ok()) << written.status();
  auto read = ReadFile(written->front());
  ASSERT_TRUE(read.ok()) << read.status();
  const std::string& md = *read;
  for (const char* text :
       {"## Out-of-distribution detection", "in-distribution positive",
        "| energy | noise |", "## Adversarial robustness",
        "Gradients and top-k routing", "figures/ood_roc_knn.png",
        "figures/adversarial_linf.png"}) {
    EXPECT_NE(md.find(text), std::string::npos) << text;
  }
  for (const std::string& f : *written) {
    EXPECT_TRUE(std::filesystem::exists(f)) << f;
  }
}

TEST_F(EvaluatorTest, RefusesBadOodAndAdversarialRequests) {
  // An OOD store of another image shape, before any work.
  data::ConvertedDataset rgb;
  rgb.dataset = data::CIFAR10;
  rgb.class_names = {"a", "b"};
  rgb.height = rgb.width = kSide;
  rgb.channels = 3;
  rgb.resize_method = "none";
  for (int i = 0; i < 4; ++i) {
    rgb.train.labels.push_back(i % 2);
    for (int p = 0; p < kSide * kSide * 3; ++p) rgb.train.pixels.push_back(p);
  }
  rgb.test = rgb.train;
  data::SplitIndices split;
  split.train = {0, 1, 2, 3};
  data::SplitRule rule;
  rule.set_method("all");
  ASSERT_TRUE(data::WriteStore(dir_ + "/rgb", rgb, split, rule, {}).ok());
  EvaluateOptions o = Options();
  o.ood.images = 5;
  o.ood.manifest_path = dir_ + "/rgb/" + data::kManifestFileName;
  o.ood.split = "train";
  auto report = Evaluate(o);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(report.status().message().find("stores 8x8x3 images but the "
                                           "model expects 8x8x1"),
            std::string::npos)
      << report.status();

  o = Options();
  o.adversarial.images = 19;  // the test split has 18
  report = Evaluate(o);
  EXPECT_NE(report.status().message().find("--adversarial_images=19"),
            std::string::npos)
      << report.status();
}

TEST_F(EvaluatorTest, PredictReadsImagesAsTheStoreHoldsThem) {
  auto store = data::DatasetStore::Open(manifest_);
  ASSERT_TRUE(store.ok());
  const data::SplitData* test = *store->split("test");
  const torch::Tensor stored = test->images[4].contiguous();  // [H, W, 1]
  cv::Mat mat(kSide, kSide, CV_8UC1, stored.data_ptr<uint8_t>());
  const std::string png = dir_ + "/image.png";
  ASSERT_TRUE(cv::imwrite(png, mat));
  auto image = ReadImageForModel(png, kSide, 1);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_TRUE(torch::equal(*image, stored.permute({2, 0, 1})));

  // A larger colour image is brought to the model's size and channels.
  cv::Mat big(20, 30, CV_8UC3, cv::Scalar(10, 20, 30));  // BGR
  ASSERT_TRUE(cv::imwrite(dir_ + "/big.ppm", big));
  auto rgb = ReadImageForModel(dir_ + "/big.ppm", kSide, 3);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->sizes(), (std::vector<int64_t>{3, kSide, kSide}));
  EXPECT_EQ((*rgb)[0][0][0].item<uint8_t>(), 30);  // red first
  EXPECT_FALSE(ReadImageForModel(dir_ + "/model.pt", kSide, 1).ok());

  const auto top =
      TopClasses(torch::tensor({{0.2, 0.5, 0.3}}), {"dark", "mid", "light"}, 2);
  ASSERT_EQ(top.size(), 1u);
  ASSERT_EQ(top[0].size(), 2u);
  EXPECT_EQ(top[0][0].name, "mid");
  EXPECT_NEAR(top[0][0].probability, 0.5, 1e-6);
  EXPECT_EQ(top[0][1].label, 2);
}

}  // namespace
}  // namespace vit_moe::eval
