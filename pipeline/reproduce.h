// Hermetic re-run of a recorded training run: the TrainingRun artifact holds
// the resolved config and the SHA-256 of every input and output, so a run
// can be repeated from it alone and its results compared digest for digest.
#ifndef VIT_MOE_PIPELINE_REPRODUCE_H_
#define VIT_MOE_PIPELINE_REPRODUCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

struct ReproduceOptions {
  // Folder for the new run; must not hold a checkpoint.
  std::string output_dir;
  // Where the inputs are now, when they moved since the recording (empty:
  // the recorded paths). Their digests must still match the record.
  std::string manifest;
  std::string normalization;
};

// Differences between a recorded and a reproduced run; empty when every
// deterministic field (per-epoch metrics, best epoch, model and checkpoint
// digests) is identical. Timing is not compared: clocks are not inputs.
std::vector<std::string> CompareRuns(const TrainingRun& recorded,
                                     const TrainingRun& reproduced);

// Verifies the recorded inputs' digests, re-trains into
// options.output_dir, and returns the new run. A moved or changed input is
// FailedPrecondition naming it.
absl::StatusOr<TrainingRun> ReproduceRun(const TrainingRun& recorded,
                                         const ReproduceOptions& options);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_REPRODUCE_H_
