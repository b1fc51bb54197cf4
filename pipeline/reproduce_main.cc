// //pipeline:reproduce - re-runs a recorded training run from its
// TrainingRun artifact and checks that the new digests equal the recorded
// ones. Exit 0: reproduced; 1: a difference (each printed); 2: bad input.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/user_path.h"
#include "pipeline/reproduce.h"

ABSL_FLAG(std::string, run, "",
          "The recorded TrainingRun (training_run.pb) to reproduce.");
ABSL_FLAG(std::string, out_dir, "", "Folder for the new run.");
ABSL_FLAG(std::string, manifest, "",
          "Where the recorded DatasetManifest is now, if it moved.");
ABSL_FLAG(std::string, normalization, "",
          "Where the recorded Normalization is now, if it moved.");

namespace vit_moe::pipeline {
namespace {

absl::StatusOr<bool> Run() {
  std::string run_path = data::ResolveUserPath(absl::GetFlag(FLAGS_run));
  if (run_path.empty()) {
    return absl::InvalidArgumentError("--run=training_run.pb is required");
  }
  TrainingRun recorded;
  RETURN_IF_ERROR(ReadBinaryProto(run_path, &recorded));
  ReproduceOptions options;
  options.output_dir = data::ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  options.manifest = data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  options.normalization =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  ASSIGN_OR_RETURN(TrainingRun reproduced, ReproduceRun(recorded, options));
  std::vector<std::string> differences = CompareRuns(recorded, reproduced);
  for (const std::string& difference : differences) {
    std::printf("differs: %s\n", difference.c_str());
  }
  if (differences.empty()) {
    std::printf(
        "reproduced: %d epochs of metrics, best model %s and final "
        "checkpoint digests identical\n",
        reproduced.epochs_size(), reproduced.checkpoint_sha256().c_str());
  }
  return differences.empty();
}

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  vit_moe::InitStage(
      argc, argv,
      "Re-runs a recorded training run and compares digests.\n"
      "  bazel run //pipeline:reproduce -- --run=runs/x/training_run.pb "
      "--out_dir=runs/x_again [--manifest=... --normalization=...]");
  absl::StatusOr<bool> same = vit_moe::pipeline::Run();
  if (!same.ok()) return vit_moe::ReportError(same.status());
  return *same ? 0 : vit_moe::kExitFailure;
}
