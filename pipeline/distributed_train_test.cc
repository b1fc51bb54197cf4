// Data-parallel //pipeline:train on 127.0.0.1: two Gloo ranks against one
// process on the same global batches, a killed rank, a killed and resumed
// group, and the start-up errors (unreachable store, a world size that does not
// divide the batch).
#include <fcntl.h>
#include <glog/logging.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "model/tensor_record.h"
#include "pipeline/checkpoint.h"
#include "pipeline/distributed/process.h"
#include "pipeline/test_dataset.h"
#include "pipeline/train_subprocess.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

constexpr int kHung = -1000;

std::map<std::string, std::string> RankEnv(int rank, int world_size, int port) {
  return {{"RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world_size)},
          {"LOCAL_RANK", std::to_string(rank)},
          {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)}};
}

// Starts the train binary with `args` and `env`; stdout and stderr go to
// `log`.
pid_t Spawn(const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env,
            const std::string& log) {
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK_GE(fd, 0) << log;
  pid_t pid = testing::StartTrain(args, env, {fd, fd});
  close(fd);
  return pid;
}

// Exit status (-signal when killed), or kHung after SIGKILLing a child
// still running after `limit`: a hang guard, not a speed check.
int Wait(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return kHung;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return testing::ExitCode(status);
}

std::string Log(const std::string& path) { return ReadFile(path).value_or(""); }

// The hex digest after "final parameters sha256 " in a rank's log.
std::string FinalDigest(const std::string& log) {
  const std::string key = "final parameters sha256 ";
  size_t at = log.find(key);
  if (at == std::string::npos) return "";
  return log.substr(at + key.size(), 64);
}

class DistributedTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "/distributed_train_test");
    // No dropout, drop-path, router noise or batch mixing: with those the
    // ranks draw other random numbers than one process on the same batch.
    // Class-token pooling and no qkv bias: sequence pooling's bias and the
    // attention's key bias have exactly zero gradients (a softmax ignores a
    // shift shared by all its inputs), so their gradients are rounding
    // noise that AdamW scales up to steps of up to the learning rate,
    // different for every summation order and kernel family (the key bias
    // differed by 1.6e-5 on an AVX2-only CPU). Float32: one process and two
    // ranks sum in different orders, and bf16 would round those sums far
    // apart.
    absl::StatusOr<std::string> config = testing::WriteTinyRun(
        *root_, absl::StrCat("model {\n", testing::kTinyModelFields,
                             R"(  pooling: CLASS_TOKEN
  qkv_bias: false
  dropout: 0
  drop_path: 0
  moe { num_experts: 4 top_k: 2 router_noise: 0 capacity_factor: 0 }
}
augment { preset: "seed" crop_padding: 2 mixup_probability: 0 cutmix_probability: 0 }
optimizer { learning_rate: 0.003 }
schedule { epochs: 2 warmup_epochs: 1 }
batch_size: 12
eval { start_epoch: 1 every_epochs: 1 }
seed: 42
threads: 1
precision: FLOAT32
log_every_steps: 1
distributed { backend: "gloo" timeout_seconds: 20 }
)"));
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = new std::string(*config);
  }

  static std::vector<std::string> Args(
      const std::string& out, const std::vector<std::string>& extra = {}) {
    return testing::TrainArgs(*config_, *root_ + "/" + out, extra);
  }

  static std::string LogPath(const std::string& name) {
    return *root_ + "/" + name + ".log";
  }

  static std::string* root_;
  static std::string* config_;
};
std::string* DistributedTrainTest::root_ = nullptr;
std::string* DistributedTrainTest::config_ = nullptr;

TEST_F(DistributedTrainTest, TwoGlooRanksEqualEachOtherAndOneProcess) {
  pid_t single = Spawn(Args("single"), {}, LogPath("single"));
  ASSERT_EQ(Wait(single, std::chrono::seconds(240)), 0)
      << Log(LogPath("single"));

  absl::StatusOr<int> port = distributed::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<pid_t> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.push_back(Spawn(Args("pair"), RankEnv(rank, 2, *port),
                          LogPath(absl::StrCat("pair", rank))));
  }
  for (int rank = 0; rank < 2; ++rank) {
    std::string log_path = LogPath(absl::StrCat("pair", rank));
    ASSERT_EQ(Wait(ranks[rank], std::chrono::seconds(240)), 0) << Log(log_path);
  }
  std::string log0 = Log(LogPath("pair0")), log1 = Log(LogPath("pair1"));
  EXPECT_THAT(log0, HasSubstr("data-parallel: 2 ranks over gloo, 6 images"));
  // Both ranks hold bitwise the same parameters.
  EXPECT_EQ(FinalDigest(log0).size(), 64u) << log0;
  EXPECT_EQ(FinalDigest(log0), FinalDigest(log1)) << log1;
  // Only rank 0 reports progress.
  EXPECT_THAT(log0, HasSubstr("epoch 1/2 step"));
  EXPECT_THAT(log1, ::testing::Not(HasSubstr("epoch 1/2 step")));

  // Rank 0's model equals the single process's within float rounding.
  absl::StatusOr<TrainingCheckpoint> one =
      ReadCheckpoint(*root_ + "/single/checkpoint.pt");
  absl::StatusOr<TrainingCheckpoint> two =
      ReadCheckpoint(*root_ + "/pair/checkpoint.pt");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->global_step(), 12);  // 2 epochs of 72 / 12 batches
  ASSERT_EQ(one->model_size(), two->model_size());
  // Both runs take the same AdamW steps from gradients that differ only by
  // float32 rounding (other summation orders and kernels); AdamW's step
  // does not scale with the gradient, so what separates the parameters is
  // that rounding, not the learning rate (3e-3 x 12 steps). Largest
  // difference measured (the line printed below), Xeon with AVX-512, ATen
  // AVX2: 1.1e-6 with OpenBLAS's SkylakeX kernels, 1.6e-6 with its Haswell
  // ones (OPENBLAS_CORETYPE=Haswell), against 5-7e-6 for the key bias when
  // it was on, and 1.6e-5 for it on an AMD Zen CPU. 1e-5 is 6x the
  // largest.
  double largest = 0;
  std::string largest_name;
  for (int i = 0; i < one->model_size(); ++i) {
    absl::StatusOr<torch::Tensor> a = model::FromRecord(one->model(i));
    absl::StatusOr<torch::Tensor> b = model::FromRecord(two->model(i));
    ASSERT_TRUE(a.ok() && b.ok()) << one->model(i).name();
    const double difference = (*a - *b).abs().max().item<double>();
    EXPECT_LE(difference, 1e-5) << one->model(i).name();
    if (difference > largest) {
      largest = difference;
      largest_name = one->model(i).name();
    }
  }
  std::cout << "largest parameter difference, one process vs two ranks: "
            << largest << " (" << largest_name << ")" << std::endl;

  TrainingRun run_one, run_two;
  ASSERT_TRUE(
      ReadBinaryProto(*root_ + "/single/training_run.pb", &run_one).ok());
  ASSERT_TRUE(ReadBinaryProto(*root_ + "/pair/training_run.pb", &run_two).ok());
  EXPECT_EQ(run_one.world_size(), 1);
  EXPECT_EQ(run_two.world_size(), 2);
  ASSERT_EQ(run_one.epochs_size(), run_two.epochs_size());
  for (int e = 0; e < run_one.epochs_size(); ++e) {
    const EpochMetrics& x = run_one.epochs(e);
    const EpochMetrics& y = run_two.epochs(e);
    EXPECT_NEAR(x.train_loss(), y.train_loss(), 1e-5);
    EXPECT_DOUBLE_EQ(x.train_accuracy(), y.train_accuracy());
    EXPECT_NEAR(x.balance_loss(), y.balance_loss(), 1e-5);
    EXPECT_NEAR(x.aux_loss(), y.aux_loss(), 1e-5);
    EXPECT_NEAR(x.validation_loss(), y.validation_loss(), 1e-5);
    EXPECT_DOUBLE_EQ(x.validation_accuracy(), y.validation_accuracy());
    ASSERT_EQ(x.expert_load_size(), y.expert_load_size());
    for (int l = 0; l < x.expert_load_size(); ++l) {
      for (int k = 0; k < x.expert_load(l).share_size(); ++k) {
        EXPECT_DOUBLE_EQ(x.expert_load(l).share(k), y.expert_load(l).share(k));
      }
      // Means of the ranks' equal halves: the whole batch's.
      EXPECT_NEAR(x.expert_load(l).router_entropy(),
                  y.expert_load(l).router_entropy(), 1e-5);
      EXPECT_NEAR(x.expert_load(l).z_loss(), y.expert_load(l).z_loss(), 1e-5);
      EXPECT_DOUBLE_EQ(x.expert_load(l).load_imbalance(),
                       y.expert_load(l).load_imbalance());
    }
  }
}

TEST_F(DistributedTrainTest, KilledRankMakesTheOtherExitWithAnError) {
  absl::StatusOr<int> port = distributed::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::vector<std::string> args = Args("killed", {"--epochs=200"});
  pid_t rank0 = Spawn(args, RankEnv(0, 2, *port), LogPath("killed0"));
  pid_t rank1 = Spawn(args, RankEnv(1, 2, *port), LogPath("killed1"));
  // Wait for training to be under way (a hang guard, like Wait).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (Log(LogPath("killed0")).find("epoch 1/200 step") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_THAT(Log(LogPath("killed0")), HasSubstr("epoch 1/200 step"));
  kill(rank1, SIGKILL);
  EXPECT_EQ(Wait(rank1, std::chrono::seconds(10)), -SIGKILL);
  // The configured timeout is 20 s; three times that means it hung.
  int code = Wait(rank0, std::chrono::seconds(60));
  std::string log = Log(LogPath("killed0"));
  EXPECT_NE(code, kHung) << log;
  EXPECT_NE(code, 0) << log;
  EXPECT_THAT(log, HasSubstr("error: rank 0: "));
  EXPECT_THAT(log, HasSubstr("timeout of 20 s"));
}

TEST_F(DistributedTrainTest, KilledGroupResumesBitwiseEqualToUninterrupted) {
  // Both runs checkpoint every step: the interval is part of the config
  // that checkpoints embed.
  const std::vector<std::string> extra = {"--epochs=4",
                                          "--checkpoint_every_steps=1"};
  auto run_pair = [&](const std::string& out, const std::string& log,
                      const std::vector<std::string>& more) {
    absl::StatusOr<int> port = distributed::PickFreePort();
    CHECK(port.ok()) << port.status();
    std::vector<std::string> args = extra;
    args.insert(args.end(), more.begin(), more.end());
    std::vector<pid_t> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      ranks.push_back(Spawn(Args(out, args), RankEnv(rank, 2, *port),
                            LogPath(absl::StrCat(log, rank))));
    }
    return ranks;
  };
  std::vector<pid_t> reference = run_pair("group_ref", "group_ref", {});
  for (int rank = 0; rank < 2; ++rank) {
    std::string log = LogPath(absl::StrCat("group_ref", rank));
    ASSERT_EQ(Wait(reference[rank], std::chrono::seconds(240)), 0) << Log(log);
  }

  // Killed together in epoch 2 (6 steps per epoch), after step 8's
  // checkpoint at the earliest.
  std::vector<pid_t> killed = run_pair("group", "group_killed", {});
  const std::string log0 = LogPath("group_killed0");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (Log(log0).find("checkpoint: step 8 ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (pid_t pid : killed) kill(pid, SIGKILL);
  for (pid_t pid : killed) Wait(pid, std::chrono::seconds(10));
  ASSERT_THAT(Log(log0), HasSubstr("checkpoint: step 8 "));
  ASSERT_THAT(Log(log0), ::testing::Not(HasSubstr("final parameters")))
      << "the group finished before it was killed";

  std::vector<pid_t> resumed = run_pair("group", "group_resumed", {"--resume"});
  std::vector<std::string> logs;
  for (int rank = 0; rank < 2; ++rank) {
    const int code = Wait(resumed[rank], std::chrono::seconds(240));
    logs.push_back(Log(LogPath(absl::StrCat("group_resumed", rank))));
    ASSERT_EQ(code, 0) << logs.back();
  }
  EXPECT_THAT(logs[0], HasSubstr("resuming at step"));
  const std::string expected = FinalDigest(Log(LogPath("group_ref0")));
  ASSERT_EQ(expected.size(), 64u);
  EXPECT_EQ(FinalDigest(logs[0]), expected) << logs[0];
  EXPECT_EQ(FinalDigest(logs[1]), expected) << logs[1];
  // The whole resumable state, optimizer moments and generators included.
  absl::StatusOr<std::string> a = ReadFile(*root_ + "/group_ref/checkpoint.pt");
  absl::StatusOr<std::string> b = ReadFile(*root_ + "/group/checkpoint.pt");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b) << "final checkpoints differ";
  TrainingRun ref_run, resumed_run;
  ASSERT_TRUE(
      ReadBinaryProto(*root_ + "/group_ref/training_run.pb", &ref_run).ok());
  ASSERT_TRUE(
      ReadBinaryProto(*root_ + "/group/training_run.pb", &resumed_run).ok());
  ASSERT_EQ(ref_run.epochs_size(), 4);
  ASSERT_EQ(resumed_run.epochs_size(), 4);
  for (int e = 0; e < 4; ++e) {
    EXPECT_EQ(SerializeDeterministic(ref_run.epochs(e)),
              SerializeDeterministic(resumed_run.epochs(e)))
        << "epoch " << e + 1;
  }
}

TEST_F(DistributedTrainTest, StartUpErrorsAreOneLine) {
  // Rank 1 of 2 with nobody hosting the store.
  absl::StatusOr<int> port = distributed::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  std::string config = *ReadFile(*config_);
  std::string short_config = *root_ + "/short_timeout.textproto";
  config.replace(config.find("timeout_seconds: 20"), 19, "timeout_seconds: 2");
  ASSERT_TRUE(WriteFileAtomically(short_config, config).ok());
  pid_t alone =
      Spawn({"--config=" + short_config, "--output_dir=" + *root_ + "/alone"},
            RankEnv(1, 2, *port), LogPath("alone"));
  int code = Wait(alone, std::chrono::seconds(60));
  std::string log = Log(LogPath("alone"));
  // A peer that never comes is the environment's fault (exit contract).
  EXPECT_EQ(code, 2) << log;
  EXPECT_THAT(log, HasSubstr("error: rank 1: rendezvous store at 127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("timeout of 2 s"));

  // batch_size 12 over 5 ranks: refused before any rendezvous.
  pid_t five = Spawn(Args("five"), RankEnv(0, 5, *port), LogPath("five"));
  EXPECT_EQ(Wait(five, std::chrono::seconds(60)), 2);
  EXPECT_THAT(Log(LogPath("five")),
              HasSubstr("error: batch_size 12 does not divide over WORLD_SIZE "
                        "5 ranks"));
}

}  // namespace
}  // namespace vit_moe::pipeline
