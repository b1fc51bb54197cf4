#include "pipeline/reproduce.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/config.h"
#include "pipeline/test_dataset.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr double kTolerance = 0.01;

TrainConfig TinyConfig(const testing::TestDataset& data,
                       const std::string& out) {
  TrainConfig config;
  EXPECT_TRUE(
      ParseTextProto(absl::StrCat("model {\n", testing::kTinyModelFields,
                                  R"(  moe { num_experts: 4 top_k: 2 }
}
augment { preset: "light" }
optimizer { learning_rate: 0.003 }
schedule { epochs: 2 }
batch_size: 12
eval { start_epoch: 1 every_epochs: 1 }
seed: 7
threads: 1
)"),
                     "tiny", &config)
          .ok());
  config.set_manifest(data.manifest);
  config.set_normalization(data.normalization);
  config.set_output_dir(out);
  FillTrainDefaults(&config);
  return config;
}

TEST(ReproduceTest, ReRunFromArtifactMatchesAndTamperingIsCaught) {
  std::string root = ::testing::TempDir() + "/reproduce_test";
  std::filesystem::remove_all(root);
  auto data = testing::WriteTestDataset(root + "/store");
  ASSERT_TRUE(data.ok()) << data.status();
  auto recorded = RunTraining(TinyConfig(*data, root + "/first"), {});
  ASSERT_TRUE(recorded.ok()) << recorded.status();

  ReproduceOptions options;
  options.output_dir = root + "/again";
  EXPECT_THAT(EnvironmentChanges(*recorded, options), IsEmpty());
  auto reproduced = ReproduceRun(*recorded, options);
  ASSERT_TRUE(reproduced.ok()) << reproduced.status();
  Comparison same = CompareRuns(*recorded, *reproduced, kTolerance);
  EXPECT_EQ(same.verdict, Verdict::kIdentical);
  EXPECT_THAT(same.differences, IsEmpty());

  EXPECT_EQ(recorded->final_checkpoint_sha256(),
            reproduced->final_checkpoint_sha256());

  // Moved inputs (another folder, the same bytes) reproduce the same run,
  // final checkpoint included: no path is part of what is hashed.
  std::filesystem::copy(root + "/store", root + "/moved_store",
                        std::filesystem::copy_options::recursive);
  ReproduceOptions moved = options;
  moved.output_dir = root + "/moved_again";
  moved.manifest = root + "/moved_store/" +
                   std::filesystem::path(data->manifest).filename().string();
  moved.normalization =
      root + "/moved_store/" +
      std::filesystem::path(data->normalization).filename().string();
  auto from_moved = ReproduceRun(*recorded, moved);
  ASSERT_TRUE(from_moved.ok()) << from_moved.status();
  EXPECT_EQ(CompareRuns(*recorded, *from_moved, kTolerance).verdict,
            Verdict::kIdentical);

  // A different result in the same environment is reported field by field
  // and is never excused by the tolerance, however small.
  TrainingRun altered = *reproduced;
  altered.mutable_epochs(0)->set_train_loss(altered.epochs(0).train_loss() +
                                            1e-6);
  altered.set_checkpoint_sha256("0000");
  Comparison differs = CompareRuns(*recorded, altered, kTolerance);
  EXPECT_EQ(differs.verdict, Verdict::kDiffers);
  ASSERT_EQ(differs.differences.size(), 3u);
  EXPECT_THAT(differs.differences[2], HasSubstr("the numeric environment"));

  // In another environment the same difference is within the tolerance,
  // with the environment's difference named as its cause...
  (*altered.mutable_numeric_environment()
        ->mutable_variables())["OPENBLAS_CORETYPE"] = "SomeOtherCore";
  Comparison within = CompareRuns(*recorded, altered, kTolerance);
  EXPECT_EQ(within.verdict, Verdict::kWithinTolerance);
  ASSERT_EQ(within.differences.size(), 4u);
  EXPECT_THAT(within.differences[2], HasSubstr("OPENBLAS_CORETYPE"));
  EXPECT_THAT(within.differences[3], HasSubstr("within"));
  EXPECT_THAT(within.differences[3], HasSubstr("epoch 1 train_loss"));

  // ...and one beyond it differs, naming the metric.
  altered.mutable_epochs(1)->set_validation_accuracy(
      altered.epochs(1).validation_accuracy() - 2 * kTolerance);
  Comparison beyond = CompareRuns(*recorded, altered, kTolerance);
  EXPECT_EQ(beyond.verdict, Verdict::kDiffers);
  EXPECT_THAT(beyond.differences.back(),
              HasSubstr("epoch 2 validation_accuracy"));

  // A changed input is refused before any training, naming it.
  std::string normalization = root + "/changed_normalization.pb";
  auto bytes = ReadFile(data->normalization);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(normalization, *bytes + " ").ok());
  options.output_dir = root + "/refused";
  options.normalization = normalization;
  auto refused = ReproduceRun(*recorded, options);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("normalization"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(root + "/refused"));
}

TEST(ReproduceTest, AnotherThreadCountIsNamedBeforeTrainingAndTolerated) {
  std::string root = ::testing::TempDir() + "/reproduce_threads_test";
  std::filesystem::remove_all(root);
  auto data = testing::WriteTestDataset(root + "/store");
  ASSERT_TRUE(data.ok()) << data.status();
  auto recorded = RunTraining(TinyConfig(*data, root + "/first"), {});
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  ASSERT_EQ(recorded->numeric_environment().threads(), 1);

  ReproduceOptions options;
  options.output_dir = root + "/two_threads";
  options.threads = 2;
  EXPECT_THAT(EnvironmentChanges(*recorded, options),
              ElementsAre("threads: \"1\" recorded, \"2\" now"));
  auto reproduced = ReproduceRun(*recorded, options);
  ASSERT_TRUE(reproduced.ok()) << reproduced.status();
  EXPECT_EQ(reproduced->numeric_environment().threads(), 2);
  // The final checkpoint records the thread count, so its digest differs
  // whatever the kernels did; the metrics stay within the tolerance and the
  // thread count is named as the cause.
  Comparison comparison = CompareRuns(*recorded, *reproduced, kTolerance);
  EXPECT_EQ(comparison.verdict, Verdict::kWithinTolerance)
      << ::testing::PrintToString(comparison.differences);
  EXPECT_THAT(comparison.differences,
              Contains(HasSubstr("likely cause: threads")));
}

TEST(ReproduceTest, TheReRunHasAsManyRanksAsTheRecord) {
  distributed::WorldInfo alone;
  distributed::WorldInfo pair;
  pair.world_size = 2;
  TrainingRun before_ranks;  // written before world_size was recorded
  EXPECT_TRUE(CheckSameWorldSize(before_ranks, alone).ok());
  TrainingRun two;
  two.set_world_size(2);
  EXPECT_TRUE(CheckSameWorldSize(two, pair).ok());

  absl::Status status = CheckSameWorldSize(two, alone);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("data-parallel in 2 processes (world_size 2), this "
                        "re-run in 1"));
  EXPECT_THAT(status.message(), HasSubstr("launch --nproc_per_node=2 --"));
  status = CheckSameWorldSize(before_ranks, pair);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("trained in one process, this re-run has 2 ranks"));
}

}  // namespace
}  // namespace vit_moe::pipeline
