#include "pipeline/reproduce.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "gtest/gtest.h"
#include "pipeline/config.h"
#include "pipeline/test_dataset.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

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
  auto reproduced = ReproduceRun(*recorded, options);
  ASSERT_TRUE(reproduced.ok()) << reproduced.status();
  EXPECT_TRUE(CompareRuns(*recorded, *reproduced).empty());

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
  EXPECT_TRUE(CompareRuns(*recorded, *from_moved).empty());

  // A different result is reported field by field, with the numeric
  // environment's differences as the likely cause.
  TrainingRun altered = *reproduced;
  altered.mutable_epochs(0)->set_train_loss(123.0);
  altered.set_checkpoint_sha256("0000");
  std::vector<std::string> differences = CompareRuns(*recorded, altered);
  ASSERT_EQ(differences.size(), 3u);
  EXPECT_NE(differences[2].find("the numeric environment"), std::string::npos)
      << differences[2];
  (*altered.mutable_numeric_environment()
        ->mutable_variables())["OPENBLAS_CORETYPE"] = "SomeOtherCore";
  differences = CompareRuns(*recorded, altered);
  ASSERT_EQ(differences.size(), 3u);
  EXPECT_NE(differences[2].find("OPENBLAS_CORETYPE"), std::string::npos)
      << differences[2];

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

}  // namespace
}  // namespace vit_moe::pipeline
