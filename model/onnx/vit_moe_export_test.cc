// ONNX export: the exported graph run in onnxruntime (via onnxruntime-node)
// must reproduce LibTorch's logits for both presets and for every expert
// kind, router, pooling, conv stem and capacity setting; plus the file's
// metadata and the errors a user can cause.
#include "model/onnx/vit_moe_export.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <map>

#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "data/dataset.pb.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/onnx/onnxruntime_runner.h"
#include "model/presets.h"
#include "model/test_util.h"

namespace vit_moe::model::onnx_export {
namespace {

constexpr char kScript[] = "model/onnx/run_onnxruntime.js";
constexpr double kTolerance = 1e-4;
constexpr int64_t kParityImages = 64;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

// A freshly initialised router is nearly uniform, so two experts' router
// probabilities can differ by less than float rounding and flip between
// LibTorch and onnxruntime. Trained routers are decisive; give the random
// model router weights of that scale (std 1) so the test compares routing,
// not coin flips.
ViTMoE MakeModel(const ModelConfig& resolved, uint64_t seed) {
  torch::manual_seed(seed);
  ViTMoE model(resolved);
  torch::NoGradGuard no_grad;
  for (auto& item : model->named_parameters()) {
    if (item.key().find(".router.") != std::string::npos) {
      item.value().normal_(0.0, 1.0);
    }
  }
  model->eval();
  return model;
}

ModelConfig Resolve(ModelConfig config) {
  absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(config);
  CHECK(resolved.ok()) << resolved.status();
  return *resolved;
}

torch::Tensor RandomImages(const ModelConfig& c, int64_t batch, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({batch, c.in_channels(), c.image_size(), c.image_size()});
}

torch::Tensor LibTorchLogits(ViTMoE& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  return model->forward(images).logits;
}

class OnnxExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<OnnxRuntime> ort = FindOnnxRuntime(kScript);
    ASSERT_TRUE(ort.ok()) << ort.status();
    ort_ = *ort;
  }

  // Exports `model` and returns the largest |logit difference| over
  // `images` between onnxruntime and LibTorch.
  double MaxDifference(ViTMoE& model, const torch::Tensor& images,
                       const std::string& name) {
    const std::string path = TempPath(name + ".onnx");
    absl::Status exported = ExportOnnx(model, {}, path);
    EXPECT_TRUE(exported.ok()) << exported;
    return MaxDifferenceOfFile(model, images, path);
  }

  double MaxDifferenceOfFile(ViTMoE& model, const torch::Tensor& images,
                             const std::string& path) {
    absl::StatusOr<torch::Tensor> ort_logits =
        RunOnnxRuntime(ort_, path, images, ::testing::TempDir());
    EXPECT_TRUE(ort_logits.ok()) << ort_logits.status();
    if (!ort_logits.ok()) return 1e9;
    torch::Tensor expected = LibTorchLogits(model, images);
    EXPECT_EQ(ort_logits->sizes(), expected.sizes());
    if (ort_logits->sizes() != expected.sizes()) return 1e9;
    const double diff = (*ort_logits - expected).abs().max().item<double>();
    std::cout << path << ": " << images.size(0)
              << " images, max |onnxruntime - LibTorch| logit difference "
              << diff << " (logits up to "
              << expected.abs().max().item<double>() << ")\n";
    return diff;
  }

  OnnxRuntime ort_;
};

TEST_F(OnnxExportTest, SeedPresetMatchesLibTorch) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_num_classes(43);
  const ModelConfig c = Resolve(config);
  ViTMoE model = MakeModel(c, 1);
  const double diff =
      MaxDifference(model, RandomImages(c, kParityImages, 2), "seed");
  RecordProperty("max_abs_logit_difference", std::to_string(diff));
  EXPECT_LE(diff, kTolerance);
}

TEST_F(OnnxExportTest, DefaultPresetMatchesLibTorchAtAnyBatchSize) {
  ModelConfig config;
  config.set_preset("default");
  config.set_image_size(28);
  config.set_in_channels(1);
  const ModelConfig c = Resolve(config);
  ViTMoE model = MakeModel(c, 3);
  const double diff =
      MaxDifference(model, RandomImages(c, kParityImages, 4), "default");
  RecordProperty("max_abs_logit_difference", std::to_string(diff));
  EXPECT_LE(diff, kTolerance);
  // The same file serves other batch sizes (the batch dimension is symbolic).
  for (int64_t batch : {1, 3}) {
    EXPECT_LE(MaxDifferenceOfFile(model, RandomImages(c, batch, 5 + batch),
                                  TempPath("default.onnx")),
              kTolerance)
        << "batch " << batch;
  }
}

// Every combination the presets do not cover: block experts with the linear
// router, sequence pooling and a conv stem; FFN experts with the
// expert-token router and a class token.
TEST_F(OnnxExportTest, EveryExpertKindRouterPoolingAndStemMatches) {
  ModelConfig block = TinyConfig(BLOCK);
  block.mutable_moe()->set_router_kind(LINEAR);
  block.set_pooling(SEQUENCE_POOL);
  block.set_conv_stem_layers(1);
  ModelConfig ffn = TinyConfig(FFN);
  ffn.mutable_moe()->set_router_kind(EXPERT_TOKEN);
  ffn.set_pooling(CLASS_TOKEN);
  ffn.mutable_moe()->set_placement(EVERY_OTHER_LAYER);
  int seed = 10;
  for (const auto& [name, config] :
       std::map<std::string, ModelConfig>{{"block", block}, {"ffn", ffn}}) {
    const ModelConfig c = Resolve(config);
    ViTMoE model = MakeModel(c, seed++);
    EXPECT_LE(MaxDifference(model, RandomImages(c, kParityImages, seed++),
                            "tiny_" + name),
              kTolerance)
        << name;
  }
}

// Capacity dropping depends on the whole batch; the graph computes it from
// the batch it is given, as LibTorch does.
TEST_F(OnnxExportTest, CapacityDroppingMatches) {
  for (ExpertKind kind : {BLOCK, FFN}) {
    ModelConfig config = TinyConfig(kind);
    config.mutable_moe()->set_capacity_factor(0.5);
    const ModelConfig c = Resolve(config);
    ViTMoE model = MakeModel(c, 20 + kind);
    const torch::Tensor images = RandomImages(c, kParityImages, 30 + kind);

    // The limit must bite, or this would test nothing beyond dropless.
    ModelConfig dropless_config = c;
    dropless_config.mutable_moe()->set_capacity_factor(0.0);
    ViTMoE dropless = MakeModel(Resolve(dropless_config), 20 + kind);
    ASSERT_GT((LibTorchLogits(model, images) - LibTorchLogits(dropless, images))
                  .abs()
                  .max()
                  .item<double>(),
              1e-3);

    EXPECT_LE(MaxDifference(model, images, "capacity"), kTolerance)
        << ExpertKind_Name(kind);
  }
}

// The command-line tool on a model file as training writes it.
TEST_F(OnnxExportTest, CommandLineExportsASavedModel) {
  const ModelConfig c = Resolve(TinyConfig(BLOCK));
  ViTMoE model = MakeModel(c, 50);
  const std::string model_path = TempPath("cli_model.pt");
  ASSERT_TRUE(SaveModel(model_path, model).ok());
  data::DatasetManifest manifest;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    manifest.add_class_names(name);
  }
  // The store the model was trained on: export refuses one of another shape.
  manifest.set_height(c.image_size());
  manifest.set_width(c.image_size());
  manifest.set_channels(c.in_channels());
  const std::string manifest_path = TempPath("manifest.pb");
  ASSERT_TRUE(WriteBinaryProto(manifest_path, manifest).ok());

  const std::string out = TempPath("cli.onnx");
  const std::string tool = "model/onnx/export_onnx";
  auto run = [](const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run(tool + " --model=" + model_path + " --out=" + out +
                " --manifest=" + manifest_path),
            0);
  EXPECT_LE(MaxDifferenceOfFile(model, RandomImages(c, 8, 51), out),
            kTolerance);
  ::onnx::ModelProto written;
  ASSERT_TRUE(ReadBinaryProto(out, &written).ok());
  bool has_names = false;
  for (const auto& p : written.metadata_props()) {
    has_names |=
        p.key() == "class_names" && p.value() == R"(["a","b","c","d","e"])";
  }
  EXPECT_TRUE(has_names);

  // User errors exit with status 2.
  EXPECT_EQ(run(tool + " --out=" + out), 2);
  EXPECT_EQ(run(tool + " --model=" + TempPath("missing.pt") + " --out=" + out),
            2);
  manifest.add_class_names("f");
  ASSERT_TRUE(WriteBinaryProto(manifest_path, manifest).ok());
  EXPECT_EQ(run(tool + " --model=" + model_path + " --out=" + out +
                " --manifest=" + manifest_path),
            2);
}

TEST(OnnxExportMetadataTest, DescribesInputClassesAndNormalization) {
  const ModelConfig c = Resolve(TinyConfig(FFN));
  ViTMoE model = MakeModel(c, 40);
  ExportMetadata meta;
  meta.class_names = {"a", "b \"quoted\"", "c", "d", "e"};
  data::Normalization norm;
  for (int i = 0; i < 3; ++i) {
    norm.add_mean(0.25 * i);
    norm.add_std(0.5);
  }
  meta.normalization = norm;
  absl::StatusOr<::onnx::ModelProto> proto = BuildOnnxModel(model, meta);
  ASSERT_TRUE(proto.ok()) << proto.status();
  EXPECT_TRUE(CheckOnnxModel(*proto).ok());

  ASSERT_EQ(proto->opset_import_size(), 1);
  EXPECT_GE(proto->opset_import(0).version(), 17);
  const auto& input = proto->graph().input(0);
  EXPECT_EQ(input.name(), "images");
  EXPECT_EQ(input.type().tensor_type().shape().dim(0).dim_param(), "batch");
  EXPECT_EQ(proto->graph().output(0).name(), "logits");

  std::map<std::string, std::string> props;
  for (const auto& p : proto->metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["class_names"], R"(["a","b \"quoted\"","c","d","e"])");
  EXPECT_EQ(props["input_shape"], "batch,3,8,8");
  EXPECT_EQ(props["normalization_mean"], "0,0.25,0.5");
  EXPECT_EQ(props["normalization_std"], "0.5,0.5,0.5");
  EXPECT_NE(props["model_config"].find("num_experts: 4"), std::string::npos);

  // Initializers are the model's tensors under their own names.
  std::map<std::string, int64_t> initializers;
  for (const auto& t : proto->graph().initializer()) {
    int64_t n = 1;
    for (int64_t d : t.dims()) n *= d;
    initializers[t.name()] = n;
  }
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(initializers.count(item.key())) << item.key();
    EXPECT_EQ(initializers[item.key()], item.value().numel()) << item.key();
  }
}

TEST(OnnxExportMetadataTest, RejectsMetadataThatDoesNotFitTheModel) {
  const ModelConfig c = Resolve(TinyConfig(FFN));
  ViTMoE model = MakeModel(c, 41);
  ExportMetadata meta;
  meta.class_names = {"only", "three", "names"};
  absl::Status status = BuildOnnxModel(model, meta).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("3 class names"), std::string::npos);

  meta.class_names.clear();
  meta.normalization.emplace();
  meta.normalization->add_mean(0.5);
  meta.normalization->add_std(0.5);
  status = BuildOnnxModel(model, meta).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("3 input channels"), std::string::npos);
}

TEST(OnnxRuntimeRunnerTest, MissingOnnxRuntimeSaysToRunSetup) {
  const char* old = std::getenv("VIT_MOE_TOOLS");
  const std::string saved = old == nullptr ? "" : old;
  setenv("VIT_MOE_TOOLS", ::testing::TempDir().c_str(), 1);
  absl::StatusOr<OnnxRuntime> ort = FindOnnxRuntime(kScript);
  if (old == nullptr) {
    unsetenv("VIT_MOE_TOOLS");
  } else {
    setenv("VIT_MOE_TOOLS", saved.c_str(), 1);
  }
  EXPECT_EQ(ort.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(ort.status().message().find("ci/setup.sh"), std::string::npos)
      << ort.status();
}

}  // namespace
}  // namespace vit_moe::model::onnx_export
