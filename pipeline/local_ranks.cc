#include "pipeline/local_ranks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace vit_moe::pipeline {

LocalRanks RanksForCores(const TrainConfig& config, bool on_cpu, int cores) {
  LocalRanks result;
  if (config.threads() != 0 || !on_cpu || cores < 2) return result;
  const int accumulate = std::max(1, config.accumulate_steps());
  for (int ranks = cores; ranks >= 2; --ranks) {
    if (config.batch_size() % (ranks * accumulate) != 0) continue;
    result.ranks = ranks;
    if (ranks < cores) {
      result.reason =
          absl::StrCat("batch_size ", config.batch_size(), " in ", accumulate,
                       " micro-batch(es) does not divide over ", cores,
                       " ranks: ", ranks, " ranks train");
    }
    return result;
  }
  result.reason = absl::StrCat(
      "batch_size ", config.batch_size(), " in ", accumulate,
      " micro-batch(es) divides over no number of ranks from 2 to ", cores,
      ": training in one process of ", cores, " threads");
  return result;
}

}  // namespace vit_moe::pipeline
