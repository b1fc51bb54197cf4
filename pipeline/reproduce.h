// Hermetic re-run of a recorded training run: the TrainingRun artifact holds
// the resolved config, the SHA-256 of every input and output and the numeric
// environment, so a run can be repeated from it alone and its results
// compared digest for digest, or within a tolerance where the environment
// (BLAS kernel, threads, CPU) differs and bit-identity is not to be expected.
#ifndef VIT_MOE_PIPELINE_REPRODUCE_H_
#define VIT_MOE_PIPELINE_REPRODUCE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/distributed/world.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

struct ReproduceOptions {
  // Folder for the new run (--out_dir): new or empty.
  std::string output_dir;
  // Where the inputs are now, when they moved since the recording (empty:
  // the recorded paths). Their digests must still match the record.
  std::string manifest;
  std::string normalization;
  // Intra-op threads of the re-run; 0 = the recorded count.
  int threads = 0;
  // This process's place in the re-run: a run trained data-parallel is
  // re-run by as many processes (each rank draws its own dropout).
  distributed::WorldInfo world;
};

enum class Verdict {
  // Every deterministic field equal: metrics, best epoch, digests.
  kIdentical,
  // The numeric environment differs and every metric is within the
  // tolerance of the record.
  kWithinTolerance,
  // Something differs in the same environment, or beyond the tolerance.
  kDiffers,
};

struct Comparison {
  Verdict verdict = Verdict::kIdentical;
  // One line per difference (empty when identical), then the numeric
  // environment's differences as their likely cause.
  std::vector<std::string> differences;
};

// Compares a reproduced run with its record. Digests decide where the
// numeric environments agree; where they differ, the per-epoch losses and
// accuracies and the best validation accuracy must each lie within
// `tolerance` (absolute) of the recorded value. Timing is not compared:
// clocks are not inputs.
Comparison CompareRuns(const TrainingRun& recorded,
                       const TrainingRun& reproduced, double tolerance);

// The numeric-environment fields in which a re-run with `options` here
// would differ from the record, known before training; empty when they
// agree or the record holds none.
std::vector<std::string> EnvironmentChanges(const TrainingRun& recorded,
                                            const ReproduceOptions& options);

// FailedPrecondition unless `world` has as many processes as the recorded
// run trained in, saying how to start the re-run.
absl::Status CheckSameWorldSize(const TrainingRun& recorded,
                                const distributed::WorldInfo& world);

// Verifies the world size and the recorded inputs' digests, re-trains into
// options.output_dir, and returns the new run. A moved or changed input is
// FailedPrecondition naming it.
absl::StatusOr<TrainingRun> ReproduceRun(const TrainingRun& recorded,
                                         const ReproduceOptions& options);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_REPRODUCE_H_
