// //pipeline:reproduce - re-runs a recorded training run from its
// TrainingRun artifact and compares the result with the record: digest for
// digest where the numeric environment is the recorded one, within
// --tolerance where it is not. Exit 0: identical; 3: within the tolerance in
// a different numeric environment; 1: differs (each difference printed);
// 2: bad input.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/store_inputs.h"
#include "data/user_path.h"
#include "pipeline/distributed/launcher.h"
#include "pipeline/distributed/world.h"
#include "pipeline/reproduce.h"

ABSL_DECLARE_FLAG(int, threads);
ABSL_FLAG(std::string, run, "",
          "The recorded TrainingRun (training_run.pb) to reproduce.");
ABSL_FLAG(std::string, out_dir, "", "Folder for the new run.");
ABSL_FLAG(std::string, manifest, "",
          "Where the recorded DatasetManifest is now, if it moved.");
ABSL_FLAG(std::string, normalization, "",
          "Where the recorded Normalization is now, if it moved.");
ABSL_FLAG(double, tolerance, 0.01,
          "Where the numeric environment differs from the record: the "
          "largest absolute difference allowed in every per-epoch loss and "
          "accuracy and in the best validation accuracy.");

namespace vit_moe::pipeline {
namespace {

// A different numeric environment that stays within the tolerance.
constexpr int kExitWithinTolerance = 3;

absl::StatusOr<int> Run() {
  std::string run_path = data::ResolveUserPath(absl::GetFlag(FLAGS_run));
  if (run_path.empty()) {
    return absl::InvalidArgumentError("--run=training_run.pb is required");
  }
  const double tolerance = absl::GetFlag(FLAGS_tolerance);
  if (!(tolerance >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tolerance must be >= 0 (got ", tolerance, ")"));
  }
  TrainingRun recorded;
  RETURN_IF_ERROR(ReadBinaryProto(run_path, &recorded));
  ReproduceOptions options;
  ASSIGN_OR_RETURN(options.world, distributed::WorldInfoFromEnvironment());
  distributed::StopWithLauncher();
  if (!options.world.is_distributed() && recorded.world_size() > 1) {
    // Each rank draws its own dropout: only as many ranks re-train the same.
    std::cerr << "the recorded run trained data-parallel in "
              << recorded.world_size() << " processes: re-training in as many"
              << std::endl;
    return distributed::LaunchSelf(recorded.world_size());
  }
  RETURN_IF_ERROR(CheckSameWorldSize(recorded, options.world));
  options.output_dir = data::ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  options.manifest = data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  options.normalization =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  options.threads = absl::GetFlag(FLAGS_threads);
  if (options.output_dir.empty()) {
    return absl::InvalidArgumentError("--out_dir is required");
  }
  // The recorded paths stand where no flag moved them.
  const TrainConfig& then = recorded.resolved_config();
  StageFiles inputs;
  inputs.AddInput("--run", run_path);
  data::AddStoreInputs(
      options.manifest.empty() ? "the recorded manifest" : "--manifest",
      options.manifest.empty() ? then.manifest() : options.manifest, &inputs);
  inputs.AddInput(options.normalization.empty() ? "the recorded normalization"
                                                : "--normalization",
                  options.normalization.empty() ? then.normalization()
                                                : options.normalization);
  inputs.AddInput("the recorded fine_tune.init_from",
                  then.fine_tune().init_from());
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir", options.output_dir));
  // Every rank trains; rank 0, which wrote the files, compares and speaks.
  const bool primary = options.world.is_primary();
  std::vector<std::string> changes = EnvironmentChanges(recorded, options);
  if (primary && !changes.empty()) {
    std::printf(
        "the numeric environment differs from the record, so bit-identical "
        "results are not expected; comparing within --tolerance=%g:\n",
        tolerance);
    for (const std::string& change : changes) {
      std::printf("  %s\n", change.c_str());
    }
    std::fflush(stdout);
  }
  ASSIGN_OR_RETURN(TrainingRun reproduced, ReproduceRun(recorded, options));
  if (!primary) return 0;
  Comparison comparison = CompareRuns(recorded, reproduced, tolerance);
  for (const std::string& difference : comparison.differences) {
    std::printf("differs: %s\n", difference.c_str());
  }
  switch (comparison.verdict) {
    case Verdict::kIdentical:
      std::printf(
          "reproduced: %d epochs of metrics, best model %s and final "
          "checkpoint digests identical\n",
          reproduced.epochs_size(), reproduced.checkpoint_sha256().c_str());
      return 0;
    case Verdict::kWithinTolerance:
      std::printf(
          "reproduced within the tolerance %g in a different numeric "
          "environment\n",
          tolerance);
      return kExitWithinTolerance;
    case Verdict::kDiffers:
      break;
  }
  return kExitFailure;
}

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Re-runs a recorded training run and compares it with the record.\n"
      "  bazel run //pipeline:reproduce -- --run=runs/x/training_run.pb "
      "--out_dir=runs/x_again [--manifest=... --normalization=...] "
      "[--threads=N --tolerance=0.01]\n"
      "A run trained data-parallel is re-run by as many processes: "
      "bazel-bin/pipeline/distributed/launch --nproc_per_node=N -- "
      "bazel-bin/pipeline/reproduce --run=... --out_dir=...\n"
      "Exit 0: identical; 3: within --tolerance in a different numeric "
      "environment (BLAS kernel, its variables, threads, CPU); 1: differs; "
      "2: bad input.",
      [](const std::vector<std::string>& arguments) -> absl::StatusOr<int> {
        RETURN_IF_ERROR(vit_moe::RefuseArguments(arguments));
        return vit_moe::pipeline::Run();
      });
}
