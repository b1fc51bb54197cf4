// Starts N processes of one training command on this machine, wired for
// c10d the way torchrun does (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT). If one process fails, the others are stopped and the
// launcher exits with the failed process's status.
#include <signal.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "pipeline/distributed/process.h"

ABSL_FLAG(int, nproc_per_node, 2, "Processes to start on this machine.");
ABSL_FLAG(int, nnodes, 1, "Machines in the job.");
ABSL_FLAG(int, node_rank, 0, "This machine's index, 0..nnodes-1.");
ABSL_FLAG(std::string, rdzv_addr, "127.0.0.1",
          "Host of node 0, where rank 0 hosts the rendezvous store.");
ABSL_FLAG(int, rdzv_port, 29500,
          "Port of the rendezvous store; 0 = a free port of this machine "
          "(one machine only), so that jobs started side by side, such as "
          "Bazel actions, do not meet in each other's store.");

namespace vit_moe::distributed {
namespace {

absl::StatusOr<int> Launch(const std::vector<std::string>& command) {
  int per_node = absl::GetFlag(FLAGS_nproc_per_node);
  int nodes = absl::GetFlag(FLAGS_nnodes);
  int node_rank = absl::GetFlag(FLAGS_node_rank);
  if (command.empty()) {
    return absl::InvalidArgumentError(
        "no command given: launch [flags] -- PROGRAM [ARGS...]");
  }
  if (per_node < 1 || nodes < 1 || node_rank < 0 || node_rank >= nodes) {
    return absl::InvalidArgumentError(
        "--nproc_per_node and --nnodes must be >= 1 and --node_rank in "
        "[0, nnodes)");
  }
  int port = absl::GetFlag(FLAGS_rdzv_port);
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rdzv_port ", port, " is not a port (0..65535)"));
  }
  if (port == 0) {
    if (nodes > 1) {
      return absl::InvalidArgumentError(
          "--rdzv_port=0 picks a port of this machine, which the other "
          "machines cannot know: give every node the same port");
    }
    ASSIGN_OR_RETURN(port, PickFreePort());
  }
  std::vector<pid_t> children;
  for (int local = 0; local < per_node; ++local) {
    int rank = node_rank * per_node + local;
    std::map<std::string, std::string> env = {
        {"RANK", std::to_string(rank)},
        {"WORLD_SIZE", std::to_string(per_node * nodes)},
        {"LOCAL_RANK", std::to_string(local)},
        {"LOCAL_WORLD_SIZE", std::to_string(per_node)},
        {"MASTER_ADDR", absl::GetFlag(FLAGS_rdzv_addr)},
        {"MASTER_PORT", std::to_string(port)},
    };
    absl::StatusOr<pid_t> pid = SpawnProcess(command, env);
    if (!pid.ok()) {
      for (pid_t child : children) kill(child, SIGTERM);
      return pid.status();
    }
    std::cerr << "launch: rank " << rank << " started as pid " << *pid
              << std::endl;
    children.push_back(*pid);
  }
  int first_failure = 0;
  std::vector<pid_t> running = children;
  while (!running.empty()) {
    int code = 0;
    pid_t done = WaitForAny(running, &code);
    if (done < 0) break;
    running.erase(std::find(running.begin(), running.end(), done));
    if (code != 0 && first_failure == 0) {
      first_failure = code;
      std::cerr << "launch: pid " << done << " exited with status " << code
                << "; stopping the other ranks" << std::endl;
      for (pid_t child : running) kill(child, SIGTERM);
    }
  }
  return first_failure;
}

}  // namespace
}  // namespace vit_moe::distributed

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Starts N local processes of a training command for torch.distributed."
      "\nUsage: launch --nproc_per_node=2 -- bazel-bin/pipeline/train "
      "--config=...",
      vit_moe::distributed::Launch);
}
