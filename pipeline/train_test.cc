// End-to-end tests of //pipeline:train as users run it: the binary as a
// subprocess on a tiny synthetic store with a tiny model. Determinism,
// SIGKILL + --resume (in float32 and bf16), learning, divergence and config
// errors.
#include <fcntl.h>
#include <glog/logging.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "model/precision.h"
#include "model/tensor_record.h"
#include "pipeline/checkpoint.h"
#include "pipeline/test_dataset.h"
#include "pipeline/train_subprocess.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

struct Child {
  pid_t pid = -1;
  int stderr_fd = -1;
};

// Starts the train binary with `args` and `env` added to the test's
// environment; its stderr comes back through a pipe.
Child Spawn(const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env = {}) {
  int fds[2];
  CHECK_EQ(pipe2(fds, O_CLOEXEC), 0);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  CHECK_GE(devnull, 0);
  Child child;
  child.pid = testing::StartTrain(args, env, {devnull, fds[1]});
  close(devnull);
  close(fds[1]);
  child.stderr_fd = fds[0];
  return child;
}

// Reads the child's stderr line by line until `stop` returns true for a
// line (then SIGKILLs it) or the stream ends. Returns the exit status
// (-signal when killed) and everything read.
std::pair<int, std::string> Await(Child child,
                                  bool (*stop)(const std::string&) = nullptr) {
  std::string text, line;
  char c;
  bool killed = false;
  while (read(child.stderr_fd, &c, 1) == 1) {
    text.push_back(c);
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    if (stop != nullptr && !killed && stop(line)) {
      kill(child.pid, SIGKILL);
      killed = true;
    }
    line.clear();
  }
  close(child.stderr_fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  return {testing::ExitCode(status), text};
}

std::pair<int, std::string> RunTrain(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env = {}) {
  return Await(Spawn(args, env));
}

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/train_test");
    absl::StatusOr<std::string> config = testing::WriteTinyRun(
        *root_,
        absl::StrCat("model {\n", testing::kTinyModelFields, R"(  dropout: 0.1
  drop_path: 0.1
  moe { num_experts: 4 top_k: 2 router_noise: 0.1 capacity_factor: 1.0 }
}
augment { preset: "seed" crop_padding: 2 mixup_probability: 0.3 }
optimizer { learning_rate: 0.003 }
schedule { epochs: 3 warmup_epochs: 1 }
batch_size: 12
eval { start_epoch: 2 every_epochs: 1 }
ema { decay: 0.9 }
seed: 42
threads: 2
log_every_steps: 1
)"));
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = new std::string(*config);
  }

  static std::vector<std::string> Args(
      const std::string& out, const std::vector<std::string>& extra = {}) {
    return testing::TrainArgs(*config_, *root_ + "/" + out, extra);
  }

  static TrainingRun ReadRun(const std::string& out) {
    TrainingRun run;
    EXPECT_TRUE(
        ReadBinaryProto(*root_ + "/" + out + "/training_run.pb", &run).ok());
    return run;
  }

  // The metrics of a TrainingRun: per-epoch numbers, best epoch and the
  // best model's digest. Clock readings live in `timing`, outside this.
  static std::string Metrics(const TrainingRun& run) {
    TrainingRun metrics;
    *metrics.mutable_epochs() = run.epochs();
    metrics.set_best_epoch(run.best_epoch());
    metrics.set_best_validation_accuracy(run.best_validation_accuracy());
    metrics.set_best_weights(run.best_weights());
    metrics.set_checkpoint_sha256(run.checkpoint_sha256());
    return SerializeDeterministic(metrics);
  }

  static std::string Sha(const std::string& out, const std::string& file) {
    absl::StatusOr<std::string> sha =
        Sha256OfFile(*root_ + "/" + out + "/" + file);
    EXPECT_TRUE(sha.ok()) << sha.status();
    return sha.value_or("");
  }

  static std::string* root_;
  static std::string* config_;
};
std::string* TrainTest::root_ = nullptr;
std::string* TrainTest::config_ = nullptr;

// A precision asked for, and the kernels it runs on.
struct PrecisionCase {
  const char* precision;
  // "native": this CPU's own choice. "avx2": ATen's AVX2 loops and oneDNN
  // capped at AVX2, as on a CPU without AVX-512, where bf16_mixed falls back
  // to float32; on an AVX-512 machine this is the only way to run that path.
  const char* cpu;
};

// The determinism and resume tests, once per precision and kernel choice.
class TrainPrecisionTest : public TrainTest,
                           public ::testing::WithParamInterface<PrecisionCase> {
 protected:
  // Output folder `name` of this case, and the flags of a run there.
  static std::string Out(const std::string& name) {
    return absl::StrCat(name, "_", GetParam().precision, "_", GetParam().cpu);
  }
  static std::vector<std::string> PrecisionArgs(
      const std::string& name, std::vector<std::string> extra = {}) {
    extra.push_back(absl::StrCat("--precision=", GetParam().precision));
    return Args(Out(name), extra);
  }
  static std::map<std::string, std::string> Env() {
    if (std::string(GetParam().cpu) == "native") return {};
    return {{"ATEN_CPU_CAPABILITY", "avx2"}, {"ONEDNN_MAX_CPU_ISA", "AVX2"}};
  }
  static std::string ExpectedPrecision() {
    const bool bf16 = std::string(GetParam().precision) == "bf16_mixed" &&
                      std::string(GetParam().cpu) == "native" &&
                      model::CpuHasNativeBf16();
    return bf16 ? "bf16_mixed" : "float32";
  }
};

INSTANTIATE_TEST_SUITE_P(
    Precisions, TrainPrecisionTest,
    ::testing::Values(PrecisionCase{"float32", "native"},
                      PrecisionCase{"bf16_mixed", "native"},
                      PrecisionCase{"bf16_mixed", "avx2"}),
    [](const ::testing::TestParamInfo<PrecisionCase>& info) {
      return absl::StrCat(info.param.precision, "_", info.param.cpu);
    });

TEST_P(TrainPrecisionTest,
       SameSeedAndThreadsGiveIdenticalMetricsAndCheckpoints) {
  auto [code_a, log_a] = RunTrain(PrecisionArgs("det_a"), Env());
  ASSERT_EQ(code_a, 0) << log_a;
  auto [code_b, log_b] = RunTrain(PrecisionArgs("det_b"), Env());
  ASSERT_EQ(code_b, 0) << log_b;
  TrainingRun a = ReadRun(Out("det_a")), b = ReadRun(Out("det_b"));
  EXPECT_EQ(a.precision(), ExpectedPrecision());
  if (std::string(GetParam().cpu) == "avx2") {
    EXPECT_EQ(a.numeric_environment().aten_cpu_capability(), "AVX2");
    EXPECT_THAT(log_a, HasSubstr("running float32"));
  }
  ASSERT_EQ(a.epochs_size(), 3);
  EXPECT_TRUE(a.epochs(2).has_validation());
  EXPECT_FALSE(a.epochs(0).has_validation());  // cadence starts at epoch 2
  EXPECT_GT(a.best_epoch(), 1);
  EXPECT_EQ(a.epochs(0).expert_load_size(), 1);  // every other layer of 2
  // Routing diagnostics of the one MoE layer: 4 experts, capacity factor 1
  // (a slot is dropped whenever routing is not perfectly even).
  double dropped = 0;
  for (const EpochMetrics& epoch : a.epochs()) {
    for (const LayerExpertLoad& layer : epoch.expert_load()) {
      EXPECT_GE(layer.dropped_slot_fraction(), 0) << epoch.epoch();
      EXPECT_LE(layer.dropped_slot_fraction(), 1) << epoch.epoch();
      EXPECT_GT(layer.router_entropy(), 0) << epoch.epoch();
      EXPECT_LE(layer.router_entropy(), std::log(4.0) + 1e-9) << epoch.epoch();
      EXPECT_GT(layer.z_loss(), 0) << epoch.epoch();
      EXPECT_GE(layer.load_imbalance(), 1) << epoch.epoch();
      EXPECT_LE(layer.load_imbalance(), 4) << epoch.epoch();
      dropped += layer.dropped_slot_fraction();
    }
    if (epoch.has_validation()) {
      EXPECT_GT(epoch.validation_balance_loss(), 0) << epoch.epoch();
    } else {
      EXPECT_EQ(epoch.validation_balance_loss(), 0) << epoch.epoch();
    }
  }
  EXPECT_GT(dropped, 0);
  EXPECT_THAT(log_a, HasSubstr("routing drop "));
  EXPECT_EQ(Metrics(a), Metrics(b));
  // The weight average is validated beside the live weights, and selection
  // names which of the two best_model.pt holds.
  EXPECT_GT(a.epochs(2).ema_validation_loss(), 0);
  EXPECT_NE(a.epochs(2).ema_validation_loss(), a.epochs(2).validation_loss());
  EXPECT_THAT(a.best_weights(), ::testing::AnyOf("model", "ema"));
  EXPECT_EQ(a.stopped_early_after_epoch(), 0);
  EXPECT_EQ(a.checkpoint_sha256(), b.checkpoint_sha256());
  EXPECT_EQ(Sha(Out("det_a"), "checkpoint.pt"),
            Sha(Out("det_b"), "checkpoint.pt"));
  EXPECT_EQ(a.final_checkpoint_sha256(), Sha(Out("det_a"), "checkpoint.pt"));
  EXPECT_EQ(a.checkpoint_sha256(), Sha(Out("det_a"), "best_model.pt"));
  EXPECT_EQ(a.timing().epochs_size(), 3);
  EXPECT_GT(a.timing().matmul_peak_flops_per_second(), 0);
  for (const EpochTiming& epoch : a.timing().epochs()) {
    EXPECT_GT(epoch.share_of_matmul_peak(), 0);
    EXPECT_LE(epoch.share_of_matmul_peak(), 1);
  }
  EXPECT_GT(a.timing().peak_resident_bytes(), 10 << 20);  // bytes, not KiB

  // A different seed must change the numbers, or the comparison proves
  // nothing.
  auto [code_c, log_c] = RunTrain(PrecisionArgs("det_c", {"--seed=43"}), Env());
  ASSERT_EQ(code_c, 0) << log_c;
  EXPECT_NE(Metrics(ReadRun(Out("det_c"))), Metrics(a));

  std::string csv = *ReadFile(*root_ + "/" + Out("det_a") + "/metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_THAT(csv,
              HasSubstr(",validation_balance_loss,layer0_dropped,"
                        "layer0_entropy,layer0_z_loss,layer0_imbalance\n"));
  for (const char* png :
       {"loss.png", "accuracy.png", "balance_loss.png", "routing.png"}) {
    EXPECT_TRUE(ReadFile(*root_ + "/" + Out("det_a") + "/" + png).ok()) << png;
  }
}

bool IsMidEpochCheckpoint(const std::string& line) {
  return line.rfind("checkpoint: step", 0) == 0 &&
         line.find(", batch 0)") == std::string::npos;
}

TEST_P(TrainPrecisionTest,
       KilledMidEpochThenResumedEqualsUninterruptedBitwise) {
  auto [code, log] = RunTrain(PrecisionArgs("straight"), Env());
  ASSERT_EQ(code, 0) << log;

  std::vector<std::string> args =
      PrecisionArgs("killed", {"--checkpoint_every_steps=2"});
  auto [killed_code, killed_log] =
      Await(Spawn(args, Env()), IsMidEpochCheckpoint);
  ASSERT_EQ(killed_code, -SIGKILL) << killed_log;
  absl::StatusOr<TrainingCheckpoint> interrupted =
      ReadCheckpoint(*root_ + "/" + Out("killed") + "/checkpoint.pt");
  ASSERT_TRUE(interrupted.ok()) << interrupted.status();
  EXPECT_LT(interrupted->epochs_size(), 3);

  // Without --resume the existing run is not overwritten.
  auto [refused, refused_log] = RunTrain(args, Env());
  EXPECT_EQ(refused, 2);
  EXPECT_THAT(refused_log, HasSubstr("--resume"));

  args.push_back("--resume");
  auto [resumed, resumed_log] = RunTrain(args, Env());
  ASSERT_EQ(resumed, 0) << resumed_log;
  EXPECT_THAT(resumed_log, HasSubstr("resuming at step"));

  absl::StatusOr<TrainingCheckpoint> x =
      ReadCheckpoint(*root_ + "/" + Out("straight") + "/checkpoint.pt");
  absl::StatusOr<TrainingCheckpoint> y =
      ReadCheckpoint(*root_ + "/" + Out("killed") + "/checkpoint.pt");
  ASSERT_TRUE(x.ok() && y.ok());
  ASSERT_EQ(x->model_size(), y->model_size());
  for (int i = 0; i < x->model_size(); ++i) {
    EXPECT_EQ(x->model(i).name(), y->model(i).name());
    EXPECT_TRUE(x->model(i).data() == y->model(i).data())
        << x->model(i).name() << " differs after resume";
  }
  ASSERT_EQ(x->ema_size(), x->model_size());
  ASSERT_EQ(x->ema_size(), y->ema_size());
  for (int i = 0; i < x->ema_size(); ++i) {
    EXPECT_TRUE(x->ema(i).data() == y->ema(i).data())
        << "weight average of " << x->ema(i).name() << " differs after resume";
  }
  EXPECT_EQ(Sha(Out("straight"), "best_model.pt"),
            Sha(Out("killed"), "best_model.pt"));
  EXPECT_EQ(Metrics(ReadRun(Out("straight"))), Metrics(ReadRun(Out("killed"))));
}

TEST_F(TrainTest, ResumesInTheOtherPrecision) {
  std::vector<std::string> args =
      Args("switched", {"--checkpoint_every_steps=2", "--precision=float32"});
  auto [killed_code, killed_log] = Await(Spawn(args), IsMidEpochCheckpoint);
  ASSERT_EQ(killed_code, -SIGKILL) << killed_log;
  args = Args("switched", {"--checkpoint_every_steps=2",
                           "--precision=bf16_mixed", "--resume"});
  auto [resumed, resumed_log] = RunTrain(args);
  ASSERT_EQ(resumed, 0) << resumed_log;
  EXPECT_THAT(resumed_log, HasSubstr("resuming at step"));
  EXPECT_EQ(ReadRun("switched").epochs_size(), 3);
}

TEST_F(TrainTest, EarlyStoppingEndsTheRunAndResumeKeepsItEnded) {
  const std::string root = *root_ + "/early";
  absl::StatusOr<std::string> config = testing::WriteTinyRun(
      root, absl::StrCat("model {\n", testing::kTinyModelFields, R"(}
optimizer { learning_rate: 0.003 }
schedule { epochs: 4 warmup_epochs: 1 }
batch_size: 12
eval { start_epoch: 1 every_epochs: 1 }
early_stopping { patience: 1 min_delta: 0.99 }
seed: 42
threads: 2
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  // The first validation sets the reference; no second one can beat it by
  // 99 points, so the run ends after epoch 2 of 4.
  std::vector<std::string> args = testing::TrainArgs(*config, root + "/run");
  auto [code, log] = RunTrain(args);
  ASSERT_EQ(code, 0) << log;
  EXPECT_THAT(log, HasSubstr("early stop"));
  TrainingRun run;
  ASSERT_TRUE(ReadBinaryProto(root + "/run/training_run.pb", &run).ok());
  EXPECT_EQ(run.stopped_early_after_epoch(), 2);
  EXPECT_EQ(run.epochs_size(), 2);
  EXPECT_EQ(run.best_weights(), "model");

  args.push_back("--resume");
  auto [resumed, resumed_log] = RunTrain(args);
  ASSERT_EQ(resumed, 0) << resumed_log;
  ASSERT_TRUE(ReadBinaryProto(root + "/run/training_run.pb", &run).ok());
  EXPECT_EQ(run.epochs_size(), 2);
  EXPECT_EQ(run.stopped_early_after_epoch(), 2);
}

TEST_F(TrainTest, ResumeFollowsInputContentNotPaths) {
  const std::string root = *root_ + "/inputs";
  absl::StatusOr<std::string> config = testing::WriteTinyRun(
      root, absl::StrCat("model {\n", testing::kTinyModelFields, R"(}
schedule { epochs: 2 warmup_epochs: 0 }
batch_size: 12
seed: 42
threads: 2
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  std::vector<std::string> args = testing::TrainArgs(*config, root + "/run");
  auto [code, log] = RunTrain(args);
  ASSERT_EQ(code, 0) << log;

  // The same bytes in another folder: the (finished) run resumes.
  std::filesystem::copy(root + "/store", root + "/moved",
                        std::filesystem::copy_options::recursive);
  std::vector<std::string> moved = testing::TrainArgs(
      *config, root + "/run",
      {"--resume", "--manifest=" + root + "/moved/manifest.pb",
       "--normalization=" + root + "/moved/normalization.pb"});
  auto [moved_code, moved_log] = RunTrain(moved);
  EXPECT_EQ(moved_code, 0) << moved_log;

  // Other data under any path: refused, naming the input.
  absl::StatusOr<testing::TestDataset> other =
      testing::WriteTestDataset(root + "/other", 4, 30);
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<std::string> swapped =
      testing::TrainArgs(*config, root + "/run",
                         {"--resume", "--manifest=" + other->manifest,
                          "--normalization=" + other->normalization});
  auto [swapped_code, swapped_log] = RunTrain(swapped);
  EXPECT_EQ(swapped_code, 2) << swapped_log;
  EXPECT_THAT(swapped_log, HasSubstr("trained on a manifest with SHA-256"));
}

TEST_F(TrainTest, DivergingLearningRateStopsAndKeepsLastCheckpoint) {
  auto [code, log] = RunTrain(
      Args("diverged", {"--learning_rate=1e6", "--checkpoint_every_steps=1"}));
  EXPECT_EQ(code, 1) << log;
  EXPECT_THAT(log, HasSubstr("error: training diverged at step"));
  EXPECT_THAT(log, HasSubstr("the last good checkpoint"));
  absl::StatusOr<TrainingCheckpoint> kept =
      ReadCheckpoint(*root_ + "/diverged/checkpoint.pt");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_GE(kept->global_step(), 1);
  for (const model::NamedTensor& record : kept->model()) {
    absl::StatusOr<torch::Tensor> t = model::FromRecord(record);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(torch::isfinite(*t).all().item<bool>()) << record.name();
  }
}

TEST_F(TrainTest, DebugModeReportsEveryStepAndNamesTheDivergingStep) {
  auto [code, log] = RunTrain(Args("debug", {"--debug", "--epochs=2"}));
  ASSERT_EQ(code, 0) << log;
  // 72 training images, batch 12: six steps per epoch, each with its
  // routing line.
  for (int step = 1; step <= 12; ++step) {
    EXPECT_THAT(log, HasSubstr(absl::StrCat("step ", step, " loss ")));
  }
  EXPECT_THAT(log, HasSubstr("routing layer 0:"));

  auto [bad, bad_log] =
      RunTrain(Args("debug_nan", {"--debug", "--learning_rate=1e6"}));
  EXPECT_EQ(bad, 1) << bad_log;
  EXPECT_THAT(bad_log, HasSubstr("error: "));
  EXPECT_THAT(bad_log, ::testing::ContainsRegex("step [0-9]+"));
}

// Determinism alone is not learning: on a separable task (a bright block
// at a class-specific place over noise, 4 classes, chance 25%) training
// must reach a validation floor, and the same run with a learning rate too
// small to move the weights must not (so the floor measures learning).
TEST(TrainLearnsTest, SeparableTaskReachesTheFloorOnlyWhenTrained) {
  const std::string root = ::testing::TempDir() + "/train_learns";
  absl::StatusOr<std::string> config = testing::WriteTinyRun(
      root, absl::StrCat("model {\n", testing::kTinyModelFields,
                         R"(  moe { num_experts: 4 top_k: 2 }
}
augment { preset: "none" }
optimizer { learning_rate: 0.01 }
schedule { epochs: 30 warmup_epochs: 2 }
batch_size: 12
eval { start_epoch: 1 every_epochs: 1 }
seed: 7
threads: 2
)"));
  ASSERT_TRUE(config.ok()) << config.status();
  auto best = [&](const std::string& out,
                  const std::vector<std::string>& extra) {
    auto [code, log] =
        RunTrain(testing::TrainArgs(*config, root + "/" + out, extra));
    EXPECT_EQ(code, 0) << log;
    TrainingRun run;
    EXPECT_TRUE(
        ReadBinaryProto(root + "/" + out + "/training_run.pb", &run).ok());
    return run.best_validation_accuracy();
  };
  EXPECT_GE(best("trained", {}), 0.9);
  EXPECT_LE(best("frozen", {"--learning_rate=1e-9"}), 0.5);
}

TEST_F(TrainTest, BadConfigIsOneLineErrorWithExitTwo) {
  auto [code, log] = RunTrain(Args("bad", {"--epochs=0"}));
  EXPECT_EQ(code, 2);
  // The flag that set the value is named, not the config file.
  EXPECT_THAT(log, HasSubstr("--epochs=0: schedule.epochs must be > 0"));
  auto [precision, precision_log] = RunTrain(Args("bad", {"--precision=fp16"}));
  EXPECT_EQ(precision, 2);
  EXPECT_THAT(precision_log,
              HasSubstr("--precision must be float32, bf16_mixed or "
                        "fp16_mixed (got \"fp16\")"));
  auto [missing, missing_log] = RunTrain({"--epochs=1"});
  EXPECT_EQ(missing, 2);
  EXPECT_THAT(missing_log, HasSubstr("error: --config is required"));
}

}  // namespace
}  // namespace vit_moe::pipeline
