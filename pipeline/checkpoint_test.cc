#include "pipeline/checkpoint.h"

#include <gtest/gtest.h>

#include "common/atomic_file.h"

namespace vit_moe::pipeline {
namespace {

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    linear = register_module("linear", torch::nn::Linear(3, 2));
    norm = register_module("norm", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Tiny);

TEST(CheckpointTest, RecordRoundTripsDtypeShapeAndBytes) {
  torch::Tensor t = torch::arange(6, torch::kInt64).reshape({2, 3});
  absl::StatusOr<torch::Tensor> back = FromRecord(ToRecord("t", t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(torch::equal(*back, t));
  NamedTensor broken = ToRecord("t", t);
  broken.mutable_data()->pop_back();
  EXPECT_NE(FromRecord(broken).status().message().find("tensor t"),
            std::string::npos);
}

TEST(CheckpointTest, ModuleTensorsRestoreIntoFreshModule) {
  torch::manual_seed(1);
  Tiny source;
  source->norm->running_mean.fill_(0.25);
  TrainingCheckpoint checkpoint;
  for (const auto& [name, tensor] : ModuleTensors(*source)) {
    *checkpoint.add_model() = ToRecord(name, tensor);
  }
  torch::manual_seed(2);
  Tiny target;
  ASSERT_TRUE(RestoreModuleTensors(*target, checkpoint.model()).ok());
  EXPECT_TRUE(torch::equal(target->linear->weight, source->linear->weight));
  EXPECT_TRUE(
      torch::equal(target->norm->running_mean, source->norm->running_mean));

  checkpoint.mutable_model(0)->set_name("linear.weightz");
  absl::Status status = RestoreModuleTensors(*target, checkpoint.model());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("linear.weight"), std::string::npos)
      << status;
}

TEST(CheckpointTest, ShapeMismatchNamesTensor) {
  Tiny source;
  TrainingCheckpoint checkpoint;
  for (const auto& [name, tensor] : ModuleTensors(*source)) {
    torch::Tensor t = name == "linear.bias" ? torch::zeros({5}) : tensor;
    *checkpoint.add_model() = ToRecord(name, t);
  }
  absl::Status status = RestoreModuleTensors(*source, checkpoint.model());
  EXPECT_NE(status.message().find("linear.bias"), std::string::npos) << status;
}

TEST(CheckpointTest, GeneratorStateReplaysRandomDraws) {
  torch::Device cpu(torch::kCPU);
  torch::manual_seed(7);
  torch::randn({3});
  TrainingCheckpoint checkpoint;
  CaptureGeneratorStates(cpu, &checkpoint);
  torch::Tensor expected = torch::randn({4});
  torch::randn({100});
  ASSERT_TRUE(RestoreGeneratorStates(cpu, checkpoint).ok());
  EXPECT_TRUE(torch::equal(torch::randn({4}), expected));
}

TEST(CheckpointTest, FileIsByteStableAndVersioned) {
  std::string dir = ::testing::TempDir();
  TrainingCheckpoint checkpoint;
  checkpoint.set_format_version(kCheckpointFormatVersion);
  checkpoint.set_global_step(12);
  *checkpoint.add_model() = ToRecord("w", torch::ones({2, 2}));
  ASSERT_TRUE(WriteCheckpoint(dir + "/a.pt", checkpoint).ok());
  ASSERT_TRUE(WriteCheckpoint(dir + "/b.pt", checkpoint).ok());
  EXPECT_EQ(*ReadFile(dir + "/a.pt"), *ReadFile(dir + "/b.pt"));
  absl::StatusOr<TrainingCheckpoint> back = ReadCheckpoint(dir + "/a.pt");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->global_step(), 12);

  checkpoint.set_format_version(99);
  ASSERT_TRUE(WriteCheckpoint(dir + "/c.pt", checkpoint).ok());
  absl::StatusOr<TrainingCheckpoint> bad = ReadCheckpoint(dir + "/c.pt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("c.pt"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe::pipeline
