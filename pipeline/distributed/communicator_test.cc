// Multi-process tests: the test binary re-runs itself as the ranks of a
// small job (selected by the TEST_WORKER environment variable), so every
// rank is a fresh process as in a real launch.
#include "pipeline/distributed/communicator.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "gtest/gtest.h"
#include "pipeline/distributed/process.h"

namespace vit_moe::distributed {
namespace {

constexpr int kWorkerOk = 0;
constexpr int kWorkerWrongValue = 3;
constexpr int kWorkerCollectiveFailed = 4;
constexpr int kWorkerConnectFailed = 5;

std::string SelfPath() {
  char buffer[4096];
  ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  buffer[length] = '\0';
  return buffer;
}

// Runs `world_size` copies of this binary as workers; returns exit codes by
// rank.
std::vector<int> RunWorkers(const std::string& worker, int world_size,
                            int ranks_to_start, const std::string& timeout_ms) {
  int port = *PickFreePort();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < ranks_to_start; ++rank) {
    auto pid =
        SpawnProcess({SelfPath()}, {{"TEST_WORKER", worker},
                                    {"TEST_TIMEOUT_MS", timeout_ms},
                                    {"RANK", std::to_string(rank)},
                                    {"WORLD_SIZE", std::to_string(world_size)},
                                    {"MASTER_ADDR", "127.0.0.1"},
                                    {"MASTER_PORT", std::to_string(port)}});
    EXPECT_TRUE(pid.ok()) << pid.status();
    pids.push_back(*pid);
  }
  std::vector<int> codes(pids.size(), -1);
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return codes;
}

TEST(CommunicatorTest, TwoRanksAverageGradientsAndBroadcast) {
  EXPECT_EQ(RunWorkers("average", 2, 2, "20000"),
            (std::vector<int>{kWorkerOk, kWorkerOk}));
}

TEST(CommunicatorTest, DeadPeerMakesSurvivorFailWithinTimeout) {
  auto start = std::chrono::steady_clock::now();
  std::vector<int> codes = RunWorkers("peer_dies", 2, 2, "3000");
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_EQ(codes[0], kWorkerCollectiveFailed);
  EXPECT_EQ(codes[1], kWorkerOk);
  // A hang would run into the test's own timeout; this bound is generous so
  // that it only catches "waited for ever", not a slow machine.
  EXPECT_LT(seconds, 60.0);
}

TEST(CommunicatorTest, MissingRanksMakeConnectFailNamingTheStore) {
  // Rank 1 of 2 starts alone: nobody hosts the store.
  std::vector<int> codes = RunWorkers("connect_only", 2, 1, "2000");
  EXPECT_EQ(codes, std::vector<int>{kWorkerConnectFailed});
}

TEST(CommunicatorTest, SingleProcessCollectivesAreNoOps) {
  WorldInfo world;
  auto communicator = Communicator::Connect(world, "auto", torch::kCPU,
                                            std::chrono::milliseconds(1000));
  ASSERT_TRUE(communicator.ok()) << communicator.status();
  torch::Tensor parameter = torch::ones({3}, torch::requires_grad());
  parameter.sum().backward();
  ASSERT_TRUE((*communicator)->AverageGradients({parameter}).ok());
  EXPECT_TRUE(parameter.grad().equal(torch::ones({3})));
}

TEST(CommunicatorTest, BackendResolution) {
  EXPECT_EQ(*ResolveBackend("auto", torch::kCPU), "gloo");
  EXPECT_EQ(ResolveBackend("mpi", torch::kCPU).status().code(),
            absl::StatusCode::kInvalidArgument);
#ifndef VIT_MOE_HAVE_CUDA
  EXPECT_EQ(ResolveBackend("nccl", torch::kCPU).status().code(),
            absl::StatusCode::kFailedPrecondition);
#endif
}

// --- worker side -----------------------------------------------------------

int RunWorker(const std::string& worker) {
  // Workers whose rank 1 is meant to be absent start as rank 1 of 2.
  if (worker == "connect_only") setenv("RANK", "1", 1);
  absl::StatusOr<WorldInfo> world = WorldInfoFromEnvironment();
  if (!world.ok()) return kWorkerConnectFailed;
  std::chrono::milliseconds timeout(std::atoi(std::getenv("TEST_TIMEOUT_MS")));
  auto communicator =
      Communicator::Connect(*world, "gloo", torch::kCPU, timeout);
  if (!communicator.ok()) {
    std::cerr << communicator.status() << std::endl;
    bool names_store =
        communicator.status().message().find("rendezvous") != std::string::npos;
    return names_store ? kWorkerConnectFailed : kWorkerWrongValue;
  }
  Communicator& comm = **communicator;
  int rank = world->rank;

  if (worker == "peer_dies") {
    if (rank == 1) _exit(kWorkerOk);
    torch::Tensor value = torch::ones({4});
    absl::Status status = comm.AllReduceSum(value);
    std::cerr << status << std::endl;
    bool names_timeout = status.message().find("timeout") != std::string::npos;
    return !status.ok() && names_timeout ? kWorkerCollectiveFailed
                                         : kWorkerWrongValue;
  }

  // Several parameters of different sizes, gradients = rank + 1 (+ index),
  // one without a gradient on rank 1, one (the last) without any.
  std::vector<torch::Tensor> parameters;
  parameters.reserve(6);
  for (int i = 0; i < 5; ++i) {
    torch::Tensor parameter = torch::zeros({i + 1, 3}, torch::requires_grad());
    if (!(rank == 1 && i == 2)) {
      parameter.mutable_grad() = torch::full({i + 1, 3}, rank + 1.0 + i);
    }
    parameters.push_back(parameter);
  }
  parameters.push_back(torch::zeros({2}, torch::requires_grad()));
  if (!comm.AverageGradients(parameters).ok()) return kWorkerCollectiveFailed;
  if (parameters[5].grad().defined()) return kWorkerWrongValue;
  for (int i = 0; i < 5; ++i) {
    // Rank 0 contributes 1 + i, rank 1 contributes 2 + i (or 0 for i == 2).
    double expected = i == 2 ? (1.0 + i) / 2 : (3.0 + 2 * i) / 2;
    if (!parameters[i].grad().allclose(torch::full({i + 1, 3}, expected))) {
      return kWorkerWrongValue;
    }
  }
  torch::Tensor weights = torch::full({2, 2}, static_cast<double>(rank));
  if (!comm.Broadcast({weights}).ok()) return kWorkerCollectiveFailed;
  if (!weights.equal(torch::zeros({2, 2}))) return kWorkerWrongValue;
  return kWorkerOk;
}

}  // namespace
}  // namespace vit_moe::distributed

int main(int argc, char** argv) {
  const char* worker = std::getenv("TEST_WORKER");
  if (worker != nullptr) return vit_moe::distributed::RunWorker(worker);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
