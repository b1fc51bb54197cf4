#include "pipeline/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "pipeline/train_flags.h"

ABSL_DECLARE_FLAG(std::optional<int>, epochs);
ABSL_DECLARE_FLAG(std::optional<double>, learning_rate);
ABSL_DECLARE_FLAG(std::optional<std::string>, device);
ABSL_DECLARE_FLAG(int, threads);
ABSL_DECLARE_FLAG(std::vector<std::string>, set);

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

TrainConfig Minimal() {
  TrainConfig config;
  config.set_manifest("m.pb");
  config.set_normalization("n.pb");
  config.set_output_dir("out");
  config.mutable_model()->set_preset("default");
  config.mutable_schedule()->set_epochs(10);
  return config;
}

TEST(ConfigTest, DefaultsFillOnlyUnsetFields) {
  TrainConfig config = Minimal();
  config.mutable_optimizer()->set_grad_clip_norm(0);  // explicit: no clipping
  config.set_label_smoothing(0);
  FillTrainDefaults(&config);
  EXPECT_DOUBLE_EQ(config.optimizer().learning_rate(), 1e-3);
  EXPECT_DOUBLE_EQ(config.optimizer().weight_decay(), 0.05);
  EXPECT_DOUBLE_EQ(config.optimizer().grad_clip_norm(), 0);
  EXPECT_DOUBLE_EQ(config.label_smoothing(), 0);
  EXPECT_EQ(config.batch_size(), 128);
  EXPECT_EQ(config.eval().start_epoch(), 1);
  EXPECT_EQ(config.device(), AUTO);
  EXPECT_EQ(config.precision(), BF16_MIXED);
  EXPECT_DOUBLE_EQ(config.ema().decay(), 0);  // no average unless asked
  EXPECT_DOUBLE_EQ(config.ema().warmup_power(), 0.75);
  EXPECT_EQ(config.early_stopping().patience(), 0);
  TrainConfig again = config;
  FillTrainDefaults(&again);
  EXPECT_EQ(again.SerializeAsString(), config.SerializeAsString());
  EXPECT_TRUE(ValidateTrainConfig(config, "run.textproto").ok());
}

TEST(ConfigTest, ErrorsNameFileAndField) {
  TrainConfig config = Minimal();
  config.mutable_schedule()->set_epochs(0);
  FillTrainDefaults(&config);
  absl::Status status = ValidateTrainConfig(config, "run.textproto");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("run.textproto: schedule.epochs"));

  config = Minimal();
  config.mutable_schedule()->set_warmup_epochs(10);
  FillTrainDefaults(&config);
  EXPECT_THAT(ValidateTrainConfig(config, "a.textproto").message(),
              HasSubstr("schedule.warmup_epochs must be below"));

  config = Minimal();
  config.set_output_dir("");
  FillTrainDefaults(&config);
  EXPECT_THAT(ValidateTrainConfig(config, "a.textproto").message(),
              HasSubstr("a.textproto: output_dir must be set"));

  config = Minimal();
  config.mutable_optimizer()->set_beta2(1.0);
  FillTrainDefaults(&config);
  EXPECT_THAT(ValidateTrainConfig(config, "a.textproto").message(),
              HasSubstr("optimizer.beta2 must be in [0, 1)"));

  config = Minimal();
  config.mutable_ema()->set_decay(1.0);  // would never move
  FillTrainDefaults(&config);
  EXPECT_THAT(ValidateTrainConfig(config, "a.textproto").message(),
              HasSubstr("ema.decay must be in [0, 1)"));

  config = Minimal();
  config.mutable_early_stopping()->set_patience(-1);
  FillTrainDefaults(&config);
  EXPECT_THAT(ValidateTrainConfig(config, "a.textproto").message(),
              HasSubstr("early_stopping.patience must be >= 0"));
}

TEST(ConfigTest, AnExplicitZeroIsRefusedWhereZeroIsInvalid) {
  const std::string dir = ::testing::TempDir();
  const std::pair<const char*, const char*> cases[] = {
      {"optimizer { learning_rate: 0 }", "optimizer.learning_rate must be > 0"},
      {"optimizer { beta1: 0 }", ""},
      {"optimizer { epsilon: 0 }", "optimizer.epsilon must be > 0"},
      {"batch_size: 0", "batch_size must be > 0"},
      {"eval { every_epochs: 0 }", "eval.every_epochs must be > 0"},
      {"log_every_steps: 0", "log_every_steps must be > 0"},
      {"distributed { timeout_seconds: 0 }",
       "distributed.timeout_seconds must be > 0"},
  };
  for (const auto& [text, error] : cases) {
    const std::string path = dir + "/zero.textproto";
    ASSERT_TRUE(WriteFileAtomically(
                    path, absl::StrCat("manifest: \"m\" normalization: \"n\" "
                                       "output_dir: \"o\" model { preset: "
                                       "\"default\" } schedule { epochs: 10 } ",
                                       text))
                    .ok());
    absl::StatusOr<TrainConfig> config = ReadTrainConfig(path);
    ASSERT_TRUE(config.ok()) << config.status();
    FillTrainDefaults(&*config);
    const absl::Status status = ValidateTrainConfig(*config, path);
    if (*error == '\0') {
      // beta1 = 0 is a valid Adam setting (no momentum) and stays 0.
      EXPECT_TRUE(status.ok()) << text << ": " << status;
      EXPECT_EQ(config->optimizer().beta1(), 0) << text;
      continue;
    }
    EXPECT_THAT(status.message(), HasSubstr(path)) << text;
    EXPECT_THAT(status.message(), HasSubstr(error)) << text;
  }
}

TEST(ConfigTest, ReadsTextAndRejectsUnknownFields) {
  std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteFileAtomically(dir + "/good.textproto",
                                  "manifest: \"m\"\nschedule { epochs: 3 }\n")
                  .ok());
  absl::StatusOr<TrainConfig> config = ReadTrainConfig(dir + "/good.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->schedule().epochs(), 3);

  ASSERT_TRUE(WriteFileAtomically(dir + "/bad.textproto", "epochz: 3\n").ok());
  absl::StatusOr<TrainConfig> bad = ReadTrainConfig(dir + "/bad.textproto");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.textproto"));
}

TEST(ConfigTest, FlagsOverrideSingleFields) {
  TrainConfig config = Minimal();
  config.set_threads(1);
  FillTrainDefaults(&config);
  absl::SetFlag(&FLAGS_epochs, 7);
  absl::SetFlag(&FLAGS_learning_rate, 0.5);
  absl::SetFlag(&FLAGS_device, std::string("cpu"));
  absl::SetFlag(&FLAGS_threads, 0);
  ASSERT_TRUE(ApplyFlagOverrides(&config).ok());
  EXPECT_EQ(config.schedule().epochs(), 7);
  EXPECT_DOUBLE_EQ(config.optimizer().learning_rate(), 0.5);
  EXPECT_EQ(config.device(), CPU);
  EXPECT_EQ(config.threads(), 1);       // --threads=0 leaves the config's value
  EXPECT_EQ(config.batch_size(), 128);  // not given: untouched

  absl::SetFlag(&FLAGS_device, std::string("tpu"));
  EXPECT_THAT(ApplyFlagOverrides(&config).message(), HasSubstr("--device"));
  absl::SetFlag(&FLAGS_epochs, std::nullopt);
  absl::SetFlag(&FLAGS_learning_rate, std::nullopt);
  absl::SetFlag(&FLAGS_device, std::nullopt);
}

TEST(ConfigTest, SetReachesAnyFieldAfterTheNamedFlags) {
  absl::FlagSaver saver;
  TrainConfig config = Minimal();
  FillTrainDefaults(&config);
  absl::SetFlag(&FLAGS_epochs, 7);
  absl::SetFlag(&FLAGS_set, std::vector<std::string>{
                                "model.moe.top_k=1", "schedule.epochs=9",
                                "augment.preset=light", "precision=FLOAT32",
                                "ema.decay=0.999"});
  ASSERT_TRUE(ApplyFlagOverrides(&config).ok());
  EXPECT_EQ(config.model().moe().top_k(), 1);
  EXPECT_EQ(config.schedule().epochs(), 9);  // --set comes last
  EXPECT_EQ(config.augment().preset(), "light");
  EXPECT_EQ(config.precision(), FLOAT32);
  EXPECT_DOUBLE_EQ(config.ema().decay(), 0.999);
  EXPECT_EQ(config.model().preset(), "default");  // the rest untouched

  absl::SetFlag(&FLAGS_set, std::vector<std::string>{"batch_size=lots"});
  EXPECT_THAT(ApplyFlagOverrides(&config).message(),
              HasSubstr("--set batch_size=lots: not a valid value"));
}

}  // namespace
}  // namespace vit_moe::pipeline
