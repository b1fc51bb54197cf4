// The training loop of //pipeline:train, top to bottom: data (loader with
// augmentation on its prefetch thread), forward, loss, backward, clip,
// AdamW update, bookkeeping; at epoch ends validation, best-model choice on
// validation accuracy, checkpoint, metrics.csv and curves; at the end the
// TrainingRun artifact.
//
// Files in output_dir:
//   checkpoint.pt      full resumable state (checkpoint.proto), rewritten
//                      atomically every epoch and every
//                      checkpoint_every_steps steps
//   best_model.pt      model of the best validation epoch (SaveModel format)
//   training_run.pb    TrainingRun (binary), written at the end
//   metrics.csv, loss.png, accuracy.png, balance_loss.png, routing.png
//                      every epoch
//
// Data-parallel (world.world_size > 1): ranks meet through c10d
// (distributed.backend, distributed.timeout_seconds), start from rank 0's
// parameters, each trains on its contiguous slice of every global batch,
// gradients are averaged after backward (before clipping), the MoE balance
// loss reads the global batch's statistics, training and validation
// metrics are summed over ranks (validation is sharded), and only rank 0
// writes files. With --resume every rank reads the same checkpoint.pt.
//
// A non-finite loss or gradient norm stops training with the step named;
// nothing is written after it, so the last checkpoint stays the last good
// state.
#ifndef VIT_MOE_PIPELINE_TRAINER_H_
#define VIT_MOE_PIPELINE_TRAINER_H_

#include <string>

#include "absl/status/statusor.h"
#include "pipeline/distributed/world.h"
#include "pipeline/train_config.pb.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

inline constexpr char kCheckpointFile[] = "checkpoint.pt";
inline constexpr char kBestModelFile[] = "best_model.pt";
inline constexpr char kTrainingRunFile[] = "training_run.pb";
inline constexpr char kMetricsCsvFile[] = "metrics.csv";

struct TrainOptions {
  // The config file, recorded as an input digest (may be empty).
  std::string config_path;
  // How errors in the sections checked once the data is known (model,
  // augment, fine_tune) name where the config came from: the file, and the
  // override flags when any were given.
  std::string config_source;
  // Continue from <output_dir>/checkpoint.pt. Without it an output_dir
  // holding an earlier run's files is refused, never overwritten.
  bool resume = false;
  // How errors name the inputs and output_dir: the flag or config field
  // the user set.
  std::string manifest_name = "manifest";
  std::string normalization_name = "normalization";
  std::string output_dir_name = "output_dir";
  // What a refused output_dir with an earlier run's files suggests: only
  // what the calling binary offers.
  std::string earlier_run_remedy =
      "pass --resume to continue that run, or choose another output_dir";
  // This process's place in a data-parallel job (default: alone).
  distributed::WorldInfo world;
};

// Trains as `config` (defaults filled, validated) says; returns the
// TrainingRun it also wrote. Rank 0 holds output_dir as its run folder
// (common/run_folder.h) from before the data is read to the end: a second
// run into it, or one into an earlier run's files without `resume`, is
// refused. Divergence is Aborted naming the step.
absl::StatusOr<TrainingRun> RunTraining(const TrainConfig& config,
                                        const TrainOptions& options);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_TRAINER_H_
