// Gradient accumulation: accumulate_steps micro-batches give the update of
// one step on the whole batch, the MoE balance loss of the whole batch
// included (RunTraining in-process on a synthetic store).
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tensor_record.h"
#include "pipeline/checkpoint.h"
#include "pipeline/config.h"
#include "pipeline/test_dataset.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

std::string Root() { return ::testing::TempDir() + "/accumulate_test"; }

// Deterministic forward (no dropout, drop-path or router noise) and
// dropless routing, so a micro-batch computes exactly its rows of the
// whole batch; a strong balance loss, so balancing each micro-batch on its
// own statistics would show in the weights.
TrainConfig Config(const testing::TestDataset& data, const std::string& out,
                   int accumulate_steps) {
  TrainConfig config;
  EXPECT_TRUE(
      ParseTextProto(absl::StrCat("model {\n", testing::kTinyModelFields, R"(
  dropout: 0
  attention_dropout: 0
  drop_path: 0
  moe { num_experts: 4 top_k: 2 router_noise: 0 capacity_factor: 0
        balance_loss_weight: 1 }
}
augment { preset: "seed" mixup_probability: 0.5 }
optimizer { learning_rate: 0.003 }
schedule { epochs: 2 warmup_epochs: 0 }
batch_size: 12
eval { start_epoch: 2 }
seed: 9
threads: 1
precision: FLOAT32
)"),
                     "accumulate_test", &config)
          .ok());
  config.set_manifest(data.manifest);
  config.set_normalization(data.normalization);
  config.set_output_dir(Root() + "/" + out);
  config.set_accumulate_steps(accumulate_steps);
  FillTrainDefaults(&config);
  return config;
}

model::NamedTensors FinalModel(const std::string& out) {
  auto checkpoint = ReadCheckpoint(Root() + "/" + out + "/" + kCheckpointFile);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  auto tensors = model::FromRecords(checkpoint->model());
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  return *tensors;
}

TEST(AccumulateTest, MicroBatchesMatchOneStepOnTheWholeBatch) {
  std::filesystem::remove_all(Root());
  auto data = testing::WriteTestDataset(Root() + "/store");
  ASSERT_TRUE(data.ok()) << data.status();
  auto whole = RunTraining(Config(*data, "whole", 1), {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto micro = RunTraining(Config(*data, "micro", 3), {});
  ASSERT_TRUE(micro.ok()) << micro.status();

  // Schedules count optimizer steps, not micro-batches.
  ASSERT_EQ(micro->epochs_size(), 2);
  EXPECT_EQ(micro->epochs(1).global_step(), whole->epochs(1).global_step());
  for (int e = 0; e < 2; ++e) {
    const EpochMetrics& a = whole->epochs(e);
    const EpochMetrics& b = micro->epochs(e);
    EXPECT_NEAR(b.train_loss(), a.train_loss(), 1e-5) << "epoch " << e + 1;
    EXPECT_EQ(b.train_accuracy(), a.train_accuracy()) << "epoch " << e + 1;
    EXPECT_NEAR(b.balance_loss(), a.balance_loss(), 1e-5) << "epoch " << e + 1;
    EXPECT_NEAR(b.aux_loss(), a.aux_loss(), 1e-5) << "epoch " << e + 1;
    EXPECT_NEAR(b.grad_norm(), a.grad_norm(), 1e-4 * a.grad_norm())
        << "epoch " << e + 1;
    EXPECT_NEAR(b.learning_rate(), a.learning_rate(), 1e-12);
    ASSERT_EQ(b.expert_load_size(), a.expert_load_size());
    for (int layer = 0; layer < a.expert_load_size(); ++layer) {
      const LayerExpertLoad& x = a.expert_load(layer);
      const LayerExpertLoad& y = b.expert_load(layer);
      EXPECT_NEAR(y.router_entropy(), x.router_entropy(), 1e-5);
      EXPECT_NEAR(y.z_loss(), x.z_loss(), 1e-5);
      EXPECT_NEAR(y.load_imbalance(), x.load_imbalance(), 1e-9);
    }
  }
  model::NamedTensors a = FinalModel("whole");
  model::NamedTensors b = FinalModel("micro");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    // Softmax over tokens ignores a shift, so this bias's gradient is zero
    // up to rounding, which Adam's normalisation turns into steps of
    // random sign.
    if (a[i].first == "seq_pool.bias") continue;
    EXPECT_LT((a[i].second - b[i].second).abs().max().item<double>(), 2e-5)
        << a[i].first;
  }
}

TEST(AccumulateTest, MicroBatchesMustDivideTheBatch) {
  auto data = testing::WriteTestDataset(Root() + "/store_b");
  ASSERT_TRUE(data.ok()) << data.status();
  TrainConfig config = Config(*data, "uneven", 5);
  EXPECT_THAT(ValidateTrainConfig(config, "run.textproto").message(),
              HasSubstr("run.textproto: accumulate_steps must divide "
                        "batch_size (12) into equal micro-batches (got 5)"));
  distributed::WorldInfo two;
  two.world_size = 2;
  two.rank = 0;
  config.set_accumulate_steps(4);
  TrainOptions options;
  options.world = two;
  EXPECT_THAT(RunTraining(config, options).status().message(),
              HasSubstr("x accumulate_steps 4"));
}

}  // namespace
}  // namespace vit_moe::pipeline
