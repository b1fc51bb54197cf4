#include "pipeline/reproduce.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/numeric_environment.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
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

// The per-epoch losses and accuracies and the best validation accuracy,
// named, recorded and reproduced side by side; epochs are paired by index
// (CompareRuns reports a different count separately).
struct Metric {
  std::string name;
  double recorded;
  double reproduced;
};

std::vector<Metric> PairedMetrics(const TrainingRun& recorded,
                                  const TrainingRun& reproduced) {
  std::vector<Metric> metrics;
  const int epochs = std::min(recorded.epochs_size(), reproduced.epochs_size());
  for (int i = 0; i < epochs; ++i) {
    const EpochMetrics& a = recorded.epochs(i);
    const EpochMetrics& b = reproduced.epochs(i);
    const std::string epoch = absl::StrCat("epoch ", a.epoch(), " ");
    metrics.push_back({epoch + "train_loss", a.train_loss(), b.train_loss()});
    metrics.push_back(
        {epoch + "train_accuracy", a.train_accuracy(), b.train_accuracy()});
    metrics.push_back(
        {epoch + "validation_loss", a.validation_loss(), b.validation_loss()});
    metrics.push_back({epoch + "validation_accuracy", a.validation_accuracy(),
                       b.validation_accuracy()});
    metrics.push_back({epoch + "ema_validation_loss", a.ema_validation_loss(),
                       b.ema_validation_loss()});
    metrics.push_back({epoch + "ema_validation_accuracy",
                       a.ema_validation_accuracy(),
                       b.ema_validation_accuracy()});
  }
  metrics.push_back({"best_validation_accuracy",
                     recorded.best_validation_accuracy(),
                     reproduced.best_validation_accuracy()});
  return metrics;
}

std::vector<std::string> BeyondTolerance(const TrainingRun& recorded,
                                         const TrainingRun& reproduced,
                                         double tolerance) {
  std::vector<std::string> lines;
  if (recorded.epochs_size() != reproduced.epochs_size()) {
    lines.push_back("the epoch counts differ, so no tolerance applies");
  }
  for (const Metric& m : PairedMetrics(recorded, reproduced)) {
    if (!(std::abs(m.recorded - m.reproduced) <= tolerance)) {
      lines.push_back(absl::StrCat(m.name, ": recorded ", m.recorded,
                                   ", reproduced ", m.reproduced,
                                   ", beyond the tolerance ", tolerance));
    }
  }
  return lines;
}

std::string LargestDeviation(const TrainingRun& recorded,
                             const TrainingRun& reproduced) {
  Metric largest{"none", 0, 0};
  for (const Metric& m : PairedMetrics(recorded, reproduced)) {
    if (std::abs(m.recorded - m.reproduced) >
        std::abs(largest.recorded - largest.reproduced)) {
      largest = m;
    }
  }
  return absl::StrCat(std::abs(largest.recorded - largest.reproduced), " in ",
                      largest.name);
}

}  // namespace

Comparison CompareRuns(const TrainingRun& recorded,
                       const TrainingRun& reproduced, double tolerance) {
  Comparison result;
  std::vector<std::string>& differences = result.differences;
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
  if (differences.empty()) return result;
  result.verdict = Verdict::kDiffers;
  if (!recorded.has_numeric_environment()) {
    differences.push_back(
        "the record holds no numeric environment (written by an older "
        "version), so the cause cannot be narrowed down");
    return result;
  }
  std::vector<std::string> causes = NumericEnvironmentDifferences(
      recorded.numeric_environment(), reproduced.numeric_environment());
  if (causes.empty()) {
    differences.push_back(
        "the numeric environment (LibTorch, BLAS, its variables, CPU, "
        "threads, precision) is the recorded one: the code or the data "
        "differ");
    return result;
  }
  for (const std::string& cause : causes) {
    differences.push_back(
        absl::StrCat("numeric environment differs, a likely cause: ", cause));
  }
  std::vector<std::string> beyond =
      BeyondTolerance(recorded, reproduced, tolerance);
  if (beyond.empty()) {
    result.verdict = Verdict::kWithinTolerance;
    differences.push_back(
        absl::StrCat("every loss and accuracy is within ", tolerance,
                     " of the record (largest deviation ",
                     LargestDeviation(recorded, reproduced), ")"));
  } else {
    differences.insert(differences.end(), beyond.begin(), beyond.end());
  }
  return result;
}

std::vector<std::string> EnvironmentChanges(const TrainingRun& recorded,
                                            const ReproduceOptions& options) {
  if (!recorded.has_numeric_environment()) return {};
  const NumericEnvironment& then = recorded.numeric_environment();
  const int threads = options.threads > 0 ? options.threads : then.threads();
  // Device and precision come from the recorded config, which the re-run
  // keeps; a fallback on this machine shows in the re-run's own record.
  return NumericEnvironmentDifferences(
      then,
      CaptureNumericEnvironment(threads, then.device(), then.precision()));
}

absl::Status CheckSameWorldSize(const TrainingRun& recorded,
                                const distributed::WorldInfo& world) {
  // Records written before data-parallel training existed hold 0.
  const int then = std::max(1, recorded.world_size());
  if (then == world.world_size) return absl::OkStatus();
  if (then == 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the recorded run trained in one process, this re-run has ",
        world.world_size, " ranks: run reproduce without the launcher"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the recorded run trained data-parallel in ", then,
      " processes (world_size ", then, "), this re-run in ", world.world_size,
      "; each rank draws its own dropout, so start it the same way: "
      "bazel-bin/pipeline/distributed/launch --nproc_per_node=",
      then, " -- bazel-bin/pipeline/reproduce --run=... --out_dir=..."));
}

absl::StatusOr<TrainingRun> ReproduceRun(const TrainingRun& recorded,
                                         const ReproduceOptions& options) {
  if (options.output_dir.empty()) {
    return absl::InvalidArgumentError("an output folder is required");
  }
  RETURN_IF_ERROR(CheckSameWorldSize(recorded, options.world));
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
  if (options.threads > 0) {
    config.set_threads(options.threads);
  } else if (recorded.threads() > 0 && !same_by_default) {
    config.set_threads(recorded.threads());
  }
  RETURN_IF_ERROR(CheckInput(recorded, "manifest", config.manifest()));
  RETURN_IF_ERROR(
      CheckInput(recorded, "normalization", config.normalization()));
  RETURN_IF_ERROR(
      CheckInput(recorded, "init_from", config.fine_tune().init_from()));
  TrainOptions train;
  train.world = options.world;
  train.manifest_name =
      options.manifest.empty() ? "the recorded manifest" : "--manifest";
  train.normalization_name = options.normalization.empty()
                                 ? "the recorded normalization"
                                 : "--normalization";
  train.output_dir_name = "--out_dir";
  train.earlier_run_remedy = "choose a new or empty --out_dir";
  return RunTraining(config, train);
}

}  // namespace vit_moe::pipeline
