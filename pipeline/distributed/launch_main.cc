// Starts N processes of one training command on this machine, wired for
// c10d the way torchrun does (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT). If one process fails, the others are stopped and the
// launcher exits with the failed process's status.
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "common/startup.h"
#include "pipeline/distributed/launcher.h"

ABSL_FLAG(int, nproc_per_node, 2, "Processes to start on this machine.");
ABSL_FLAG(int, nnodes, 1, "Machines in the job.");
ABSL_FLAG(int, node_rank, 0, "This machine's index, 0..nnodes-1.");
ABSL_FLAG(std::string, rdzv_addr, "127.0.0.1",
          "Host of node 0, where rank 0 hosts the rendezvous store.");
ABSL_FLAG(int, rdzv_port, 29500,
          "Port of the rendezvous store; 0 = a free port of this machine "
          "(one machine only), so that jobs started side by side, such as "
          "Bazel actions, do not meet in each other's store.");

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Starts N local processes of a training command for torch.distributed."
      "\nUsage: launch --nproc_per_node=2 -- bazel-bin/pipeline/train "
      "--config=...",
      [](const std::vector<std::string>& command) {
        vit_moe::distributed::LaunchOptions options;
        options.processes_per_node = absl::GetFlag(FLAGS_nproc_per_node);
        options.nodes = absl::GetFlag(FLAGS_nnodes);
        options.node_rank = absl::GetFlag(FLAGS_node_rank);
        options.rendezvous_address = absl::GetFlag(FLAGS_rdzv_addr);
        options.rendezvous_port = absl::GetFlag(FLAGS_rdzv_port);
        return vit_moe::distributed::LaunchRanks(command, options);
      });
}
