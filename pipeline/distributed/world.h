// Where this process sits in a training job: rank, world size and the
// rendezvous address, read the way torchrun, Slurm wrappers and mpirun
// launchers pass them (environment variables), with flags able to override.
#ifndef VIT_MOE_PIPELINE_DISTRIBUTED_WORLD_H_
#define VIT_MOE_PIPELINE_DISTRIBUTED_WORLD_H_

#include <string>

#include "absl/status/statusor.h"

namespace vit_moe::distributed {

struct WorldInfo {
  int rank = 0;
  int world_size = 1;
  // Rank among the processes of this machine; picks the GPU on CUDA.
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;

  bool is_primary() const { return rank == 0; }
  bool is_distributed() const { return world_size > 1; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; a
// non-negative (non-empty) value of the matching --rank, --world_size,
// --local_rank, --master_addr, --master_port flag wins. Missing variables
// mean a single process. Inconsistent values (rank >= world size, a port
// out of range, text where a number belongs) are InvalidArgument naming the
// variable.
absl::StatusOr<WorldInfo> WorldInfoFromEnvironment();

}  // namespace vit_moe::distributed

#endif  // VIT_MOE_PIPELINE_DISTRIBUTED_WORLD_H_
