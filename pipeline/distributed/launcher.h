// Starting the ranks of a data-parallel job on this machine, wired for c10d
// the way torchrun does (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT): what //pipeline/distributed:launch does, and
// what a training with `threads: 0` does to spread itself over the cores.
#ifndef VIT_MOE_PIPELINE_DISTRIBUTED_LAUNCHER_H_
#define VIT_MOE_PIPELINE_DISTRIBUTED_LAUNCHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vit_moe::distributed {

struct LaunchOptions {
  int processes_per_node = 1;
  int nodes = 1;
  int node_rank = 0;
  // Host of node 0, where rank 0 hosts the rendezvous store.
  std::string rendezvous_address = "127.0.0.1";
  // 0: a free port of this machine (one node only).
  int rendezvous_port = 0;
  // For a stage that launches its own ranks: they read the same inputs and
  // refuse bad ones alike, so the launcher keeps the stage's contract of
  // one "error: ..." line, the last on stderr. It holds back the ranks'
  // error lines and prints one at the end (rank 0's, else the first failed
  // rank's, else the failure's exit status), and says nothing of its own.
  bool one_error_line = false;
};

// Checks `options` (InvalidArgument naming the flag's meaning), starts
// this node's processes of `command` (argv[0] the program), and waits for
// them. When one fails the others get SIGTERM. Returns the first failed
// process's exit status (128 + signal when signalled), 0 when all succeed.
// Every rank is told the launcher's pid and stops when the launcher dies
// (StopWithLauncher), so a killed launcher leaves no rank behind.
absl::StatusOr<int> LaunchRanks(const std::vector<std::string>& command,
                                const LaunchOptions& options);

// In a process started by LaunchRanks: asks the kernel for SIGTERM when the
// launcher exits. Does nothing in a process started otherwise (torchrun,
// Slurm, by hand, or by a rank).
void StopWithLauncher();

// This process's command line as it was started (/proc/self/cmdline).
absl::StatusOr<std::vector<std::string>> OwnCommandLine();

// For a stage that spreads itself over this machine: LaunchRanks of its own
// command line, `ranks` processes on a free port, with one error line.
absl::StatusOr<int> LaunchSelf(int ranks);

}  // namespace vit_moe::distributed

#endif  // VIT_MOE_PIPELINE_DISTRIBUTED_LAUNCHER_H_
