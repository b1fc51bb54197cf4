// Fine-tuning end to end (RunTraining in-process on synthetic stores): a
// 10-class model fine-tuned on a 5-class subset, with frozen layers and a
// slower backbone, and the refusals a user can cause.
#include "pipeline/fine_tune.h"

#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/checkpoint.h"
#include "pipeline/config.h"
#include "pipeline/test_dataset.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Root() { return ::testing::TempDir() + "/fine_tune_test"; }

// The training fields of every run here; `model_fields` goes inside
// `model { }`.
TrainConfig Config(const testing::TestDataset& data, const std::string& out,
                   const std::string& model_fields) {
  TrainConfig config;
  EXPECT_TRUE(ParseTextProto(absl::StrCat("model {\n", model_fields, R"(}
augment { preset: "light" }
optimizer { learning_rate: 0.003 }
schedule { epochs: 1 warmup_epochs: 0 }
batch_size: 12
seed: 5
threads: 1
precision: FLOAT32
)"),
                             "fine_tune_test", &config)
                  .ok());
  config.set_manifest(data.manifest);
  config.set_normalization(data.normalization);
  config.set_output_dir(Root() + "/" + out);
  FillTrainDefaults(&config);
  return config;
}

std::map<std::string, torch::Tensor> Parameters(const std::string& path) {
  absl::StatusOr<model::ViTMoE> model = model::LoadModel(path, torch::kCPU);
  EXPECT_TRUE(model.ok()) << model.status();
  std::map<std::string, torch::Tensor> named;
  for (const auto& item : (*model)->named_parameters()) {
    named[item.key()] = item.value().detach().clone();
  }
  return named;
}

class FineTuneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::filesystem::remove_all(Root());
    auto ten = testing::WriteTestDataset(Root() + "/data_ten", 10, 12);
    auto five = testing::WriteTestDataset(Root() + "/data_five", 5, 12);
    ASSERT_TRUE(ten.ok()) << ten.status();
    ASSERT_TRUE(five.ok()) << five.status();
    ten_ = new testing::TestDataset(*ten);
    five_ = new testing::TestDataset(*five);
    auto pretrained =
        RunTraining(Config(*ten_, "pretrained", testing::kTinyModelFields), {});
    ASSERT_TRUE(pretrained.ok()) << pretrained.status();
    pretrained_ = new std::string(Root() + "/pretrained/best_model.pt");
  }

  // A fine-tuning config: the architecture comes from the pretrained file.
  static TrainConfig FineTune(const std::string& out,
                              const testing::TestDataset& data) {
    TrainConfig config = Config(data, out, "  dropout: 0\n");
    config.mutable_fine_tune()->set_init_from(*pretrained_);
    return config;
  }

  static testing::TestDataset* ten_;
  static testing::TestDataset* five_;
  static std::string* pretrained_;
};

testing::TestDataset* FineTuneTest::ten_ = nullptr;
testing::TestDataset* FineTuneTest::five_ = nullptr;
std::string* FineTuneTest::pretrained_ = nullptr;

TEST_F(FineTuneTest, TenClassesToFiveFreezesAndReinitialisesTheHead) {
  TrainConfig config = FineTune("five", *five_);
  config.mutable_fine_tune()->set_freeze_embedding(true);
  config.mutable_fine_tune()->set_freeze_blocks(1);
  auto run = RunTraining(config, {});
  ASSERT_TRUE(run.ok()) << run.status();

  const FineTuneRecord& record = run->fine_tune();
  EXPECT_EQ(record.init_classes(), 10);
  EXPECT_TRUE(record.head_reinitialized());
  EXPECT_THAT(record.frozen_tensors(), Contains("pos_embed"));
  EXPECT_THAT(record.frozen_tensors(), Contains("patch_embed.weight"));
  EXPECT_THAT(record.frozen_tensors(), Contains(HasSubstr("blocks.0.")));
  EXPECT_THAT(record.frozen_tensors(), Not(Contains(HasSubstr("blocks.1."))));
  EXPECT_THAT(record.frozen_tensors(), Not(Contains(HasSubstr("head."))));
  EXPECT_EQ(run->resolved_config().model().num_classes(), 5);
  EXPECT_EQ(run->resolved_config().model().embed_dim(), 16);
  EXPECT_EQ(run->resolved_config().model().dropout(), 0);
  bool recorded_input = false;
  for (const InputDigest& input : run->inputs()) {
    if (input.role() == "init_from") {
      recorded_input = input.sha256() == record.init_from_sha256();
    }
  }
  EXPECT_TRUE(recorded_input);

  std::map<std::string, torch::Tensor> before = Parameters(*pretrained_);
  std::map<std::string, torch::Tensor> after =
      Parameters(Root() + "/five/best_model.pt");
  int64_t total = 0, frozen = 0;
  for (const auto& [name, tensor] : after) {
    total += tensor.numel();
    if (model::IsHeadParameter(name)) {
      EXPECT_EQ(tensor.size(0), 5) << name;
      continue;
    }
    const bool is_frozen =
        model::IsEmbeddingParameter(name) || model::BlockIndexOf(name) == 0;
    if (is_frozen) frozen += tensor.numel();
    // Frozen tensors are bitwise the loaded ones; the others trained on.
    EXPECT_EQ(torch::equal(tensor, before.at(name)), is_frozen) << name;
  }
  EXPECT_EQ(record.frozen_parameter_count(), frozen);
  EXPECT_EQ(run->parameter_count(), total - frozen);
}

TEST_F(FineTuneTest, SameClassCountLoadsTheHeadAndSlowBackboneBarelyMoves) {
  TrainConfig config = FineTune("slow_backbone", *ten_);
  config.mutable_fine_tune()->set_backbone_lr_scale(1e-9);
  auto run = RunTraining(config, {});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(run->fine_tune().head_reinitialized());
  EXPECT_EQ(run->fine_tune().frozen_tensors_size(), 0);

  std::map<std::string, torch::Tensor> before = Parameters(*pretrained_);
  std::map<std::string, torch::Tensor> after =
      Parameters(Root() + "/slow_backbone/best_model.pt");
  for (const auto& [name, tensor] : after) {
    const double moved = (tensor - before.at(name)).abs().max().item<double>();
    if (model::IsHeadParameter(name)) {
      EXPECT_GT(moved, 1e-4) << name;
    } else {
      EXPECT_LT(moved, 1e-8) << name;
    }
  }
}

TEST_F(FineTuneTest, MistakesAreRefusedNamingTheCause) {
  TrainConfig too_deep = FineTune("too_deep", *five_);
  too_deep.mutable_fine_tune()->set_freeze_blocks(3);
  EXPECT_THAT(RunTraining(too_deep, {}).status().message(),
              HasSubstr("fine_tune.freeze_blocks is 3 but " + *pretrained_ +
                        " has 2 blocks"));

  TrainConfig other_preset = FineTune("other_preset", *five_);
  other_preset.mutable_model()->set_preset("seed");
  EXPECT_THAT(RunTraining(other_preset, {}).status().message(),
              HasSubstr("model.preset is \"seed\""));

  TrainConfig missing = FineTune("missing", *five_);
  missing.mutable_fine_tune()->set_init_from(Root() + "/nothing.pt");
  EXPECT_THAT(RunTraining(missing, {}).status().message(),
              HasSubstr(Root() + "/nothing.pt"));

  // A wider model in the config than in the file: the tensor is named.
  TrainConfig wider = FineTune("wider", *five_);
  wider.mutable_model()->set_embed_dim(32);
  absl::Status status = RunTraining(wider, {}).status();
  EXPECT_THAT(status.message(), HasSubstr(*pretrained_));
  EXPECT_THAT(status.message(), HasSubstr("pos_embed"));

  for (const std::string out :
       {"too_deep", "other_preset", "missing", "wider"}) {
    EXPECT_FALSE(
        std::filesystem::exists(Root() + "/" + out + "/" + kCheckpointFile))
        << out;
  }

  // Freezing without a model to fine-tune is a config error.
  TrainConfig scratch = Config(*five_, "scratch", testing::kTinyModelFields);
  scratch.mutable_fine_tune()->set_freeze_blocks(1);
  EXPECT_THAT(ValidateTrainConfig(scratch, "run.textproto").message(),
              HasSubstr("run.textproto: fine_tune.init_from must name"));
}

}  // namespace
}  // namespace vit_moe::pipeline
