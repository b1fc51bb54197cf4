#include "pipeline/reproduce.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "pipeline/numeric_environment.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

// Checks that the file now at `path` is the one the run recorded for
// `role`; runs that recorded no such input pass.
absl::Status CheckInput(const TrainingRun& recorded, const std::string& role,
                        const std::string& path) {
  for (const InputDigest& input : recorded.inputs()) {
    if (input.role() != role) continue;
    ASSIGN_OR_RETURN(std::string actual, Sha256OfFile(path));
    if (actual != input.sha256()) {
      return absl::FailedPreconditionError(absl::StrCat(
          role, " ", path, ": SHA-256 ", actual, " differs from the recorded ",
          input.sha256(), " (", input.path(), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> CompareRuns(const TrainingRun& recorded,
                                     const TrainingRun& reproduced) {
  std::vector<std::string> differences;
  if (recorded.epochs_size() != reproduced.epochs_size()) {
    differences.push_back(absl::StrCat("epochs: ", recorded.epochs_size(),
                                       " recorded, ", reproduced.epochs_size(),
                                       " reproduced"));
  } else {
    for (int i = 0; i < recorded.epochs_size(); ++i) {
      if (SerializeDeterministic(recorded.epochs(i)) !=
          SerializeDeterministic(reproduced.epochs(i))) {
        differences.push_back(
            absl::StrCat("epoch ", recorded.epochs(i).epoch(),
                         " metrics differ: recorded train_loss ",
                         recorded.epochs(i).train_loss(), ", reproduced ",
                         reproduced.epochs(i).train_loss()));
      }
    }
  }
  if (recorded.best_epoch() != reproduced.best_epoch()) {
    differences.push_back(absl::StrCat("best epoch: recorded ",
                                       recorded.best_epoch(), ", reproduced ",
                                       reproduced.best_epoch()));
  }
  if (recorded.checkpoint_sha256() != reproduced.checkpoint_sha256()) {
    differences.push_back(absl::StrCat(
        "best model SHA-256: recorded ", recorded.checkpoint_sha256(),
        ", reproduced ", reproduced.checkpoint_sha256()));
  }
  if (recorded.final_checkpoint_sha256() !=
      reproduced.final_checkpoint_sha256()) {
    differences.push_back(absl::StrCat("final checkpoint SHA-256: recorded ",
                                       recorded.final_checkpoint_sha256(),
                                       ", reproduced ",
                                       reproduced.final_checkpoint_sha256()));
  }
  if (differences.empty()) return differences;
  if (!recorded.has_numeric_environment()) {
    differences.push_back(
        "the record holds no numeric environment (written by an older "
        "version), so the cause cannot be narrowed down");
    return differences;
  }
  std::vector<std::string> causes = NumericEnvironmentDifferences(
      recorded.numeric_environment(), reproduced.numeric_environment());
  if (causes.empty()) {
    differences.push_back(
        "the numeric environment (LibTorch, BLAS, its variables, CPU, "
        "threads) is the recorded one: the code or the data differ");
  }
  for (const std::string& cause : causes) {
    differences.push_back(
        absl::StrCat("numeric environment differs, a likely cause: ", cause));
  }
  return differences;
}

absl::StatusOr<TrainingRun> ReproduceRun(const TrainingRun& recorded,
                                         const ReproduceOptions& options) {
  if (options.output_dir.empty()) {
    return absl::InvalidArgumentError("an output folder is required");
  }
  TrainConfig config = recorded.resolved_config();
  if (!options.manifest.empty()) config.set_manifest(options.manifest);
  if (!options.normalization.empty()) {
    config.set_normalization(options.normalization);
  }
  config.set_output_dir(options.output_dir);
  // The same thread count: float sums split differently across threads
  // round differently. A config that asked for all cores keeps asking where
  // that gives the recorded count, so the checkpoint's config is unchanged.
  const bool same_by_default =
      config.threads() == 0 && CoreCount() == recorded.threads();
  if (recorded.threads() > 0 && !same_by_default) {
    config.set_threads(recorded.threads());
  }
  RETURN_IF_ERROR(CheckInput(recorded, "manifest", config.manifest()));
  RETURN_IF_ERROR(
      CheckInput(recorded, "normalization", config.normalization()));
  return RunTraining(config, TrainOptions{});
}

}  // namespace vit_moe::pipeline
