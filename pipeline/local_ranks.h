// How a training started as one process uses the cores of a CPU machine.
//
// `threads: 0` (all cores) trains data-parallel in one process of one
// thread per core. Measured on 2 cores (pipeline/README.md, "Under load"):
// 2 processes of 1 thread trained the CI recipe 1.1x (bf16) to 1.7x
// (float32) faster than 1 process of 2 threads, whose OpenMP barriers cost
// more than the second thread gives, and with one core busy elsewhere they
// slowed 1.7x where the 2 threads slowed 3.4-4x.
#ifndef VIT_MOE_PIPELINE_LOCAL_RANKS_H_
#define VIT_MOE_PIPELINE_LOCAL_RANKS_H_

#include <string>

#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

struct LocalRanks {
  // Processes to train in; 1 = this process alone.
  int ranks = 1;
  // Why not one per core, for the log; "" when nothing needs saying.
  std::string reason;
};

// For a training of `config` started alone (no WORLD_SIZE) on a machine of
// `cores` cores: one rank per core when `config` asks for all cores
// (threads 0) on a CPU, else one. With a batch that does not divide over
// that many ranks, the most ranks it divides over (at least 2), else one.
LocalRanks RanksForCores(const TrainConfig& config, bool on_cpu, int cores);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_LOCAL_RANKS_H_
