#include "pipeline/checkpoint.h"

#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tensor_record.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

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

TrainingCheckpoint SmallCheckpoint() {
  TrainingCheckpoint checkpoint;
  checkpoint.set_global_step(12);
  *checkpoint.add_model() = model::ToRecord("w", torch::ones({2, 2}));
  *checkpoint.add_optimizer() =
      model::ToRecord("w/exp_avg", torch::zeros({2, 2}));
  return checkpoint;
}

TEST(CheckpointTest, FileIsByteStableAndVersioned) {
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteCheckpoint(dir + "/a.pt", SmallCheckpoint()).ok());
  ASSERT_TRUE(WriteCheckpoint(dir + "/b.pt", SmallCheckpoint()).ok());
  EXPECT_EQ(*ReadFile(dir + "/a.pt"), *ReadFile(dir + "/b.pt"));
  absl::StatusOr<TrainingCheckpoint> back = ReadCheckpoint(dir + "/a.pt");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->global_step(), 12);
  EXPECT_EQ(back->format_version(), kCheckpointFormatVersion);
  EXPECT_EQ(back->tensors_sha256().size(), 64);

  TrainingCheckpoint future = *back;
  future.set_format_version(99);
  ASSERT_TRUE(WriteBinaryProto(dir + "/c.pt", future).ok());
  absl::StatusOr<TrainingCheckpoint> bad = ReadCheckpoint(dir + "/c.pt");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("c.pt: checkpoint format_version 99"));
}

TEST(CheckpointTest, ChangedTensorByteIsRefused) {
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteCheckpoint(dir + "/d.pt", SmallCheckpoint()).ok());
  TrainingCheckpoint damaged = *ReadCheckpoint(dir + "/d.pt");
  (*damaged.mutable_optimizer(0)->mutable_data())[3] ^= 0x40;
  ASSERT_TRUE(WriteBinaryProto(dir + "/d.pt", damaged).ok());
  absl::StatusOr<TrainingCheckpoint> read = ReadCheckpoint(dir + "/d.pt");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(),
              HasSubstr("d.pt: damaged checkpoint: its tensors' SHA-256 is"));
}

TEST(CheckpointTest, FormatOneWithoutDigestIsStillRead) {
  const std::string dir = ::testing::TempDir();
  TrainingCheckpoint old = SmallCheckpoint();
  old.set_format_version(1);
  ASSERT_TRUE(WriteBinaryProto(dir + "/old.pt", old).ok());
  absl::StatusOr<TrainingCheckpoint> read = ReadCheckpoint(dir + "/old.pt");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->model_size(), 1);
}

}  // namespace
}  // namespace vit_moe::pipeline
