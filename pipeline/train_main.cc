// //pipeline:train - trains a ViT-MoE as a TrainConfig text file says.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/store_inputs.h"
#include "data/user_path.h"
#include "pipeline/config.h"
#include "pipeline/device.h"
#include "pipeline/distributed/launcher.h"
#include "pipeline/distributed/world.h"
#include "pipeline/local_ranks.h"
#include "pipeline/train_flags.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

absl::StatusOr<int> Run() {
  const std::string config_path = data::ResolveUserPath(ConfigFlag());
  if (config_path.empty()) {
    return absl::InvalidArgumentError(
        "--config is required (a TrainConfig "
        "text file, see pipeline/configs/)");
  }
  ASSIGN_OR_RETURN(TrainConfig config, ReadTrainConfig(config_path));
  FillTrainDefaults(&config);
  const TrainConfig from_file = config;
  RETURN_IF_ERROR(ApplyFlagOverrides(&config));
  RETURN_IF_ERROR(ValidateWithOverrides(config, from_file, config_path));
  // Paths in the config, like those on the command line, are relative to
  // the folder the command was typed in.
  config.set_manifest(data::ResolveUserPath(config.manifest()));
  config.set_normalization(data::ResolveUserPath(config.normalization()));
  config.set_output_dir(data::ResolveUserPath(config.output_dir()));
  config.mutable_fine_tune()->set_init_from(
      data::ResolveUserPath(config.fine_tune().init_from()));
  TrainOptions options;
  options.config_path = config_path;
  const std::string overrides = GivenOverrideFlags();
  options.config_source = overrides.empty()
                              ? config_path
                              : absl::StrCat(config_path, " with ", overrides);
  options.resume = ResumeFlag();
  options.manifest_name = FieldName("manifest", "manifest");
  options.normalization_name = FieldName("normalization", "normalization");
  options.output_dir_name = FieldName("output_dir", "output_dir");
  options.earlier_run_remedy =
      absl::StrCat("pass --resume to continue that run, or choose another ",
                   options.output_dir_name);
  StageFiles inputs;
  inputs.AddInput("--config", config_path);
  data::AddStoreInputs(options.manifest_name, config.manifest(), &inputs);
  inputs.AddInput(options.normalization_name, config.normalization());
  inputs.AddInput(FieldName("init_from", "fine_tune.init_from"),
                  config.fine_tune().init_from());
  RETURN_IF_ERROR(
      inputs.CheckOutput(options.output_dir_name, config.output_dir()));
  ASSIGN_OR_RETURN(options.world, distributed::WorldInfoFromEnvironment());
  distributed::StopWithLauncher();
  if (!options.world.is_distributed()) {
    absl::StatusOr<torch::Device> device = ResolveDevice(config.device(), 0);
    const LocalRanks local =
        RanksForCores(config, device.ok() && device->is_cpu(), CoreCount());
    if (!local.reason.empty()) std::cerr << local.reason << std::endl;
    if (local.ranks > 1) {
      std::cerr << "threads: 0 on " << CoreCount()
                << " CPU cores: training data-parallel in " << local.ranks
                << " processes of one thread each (set threads to train in "
                   "one process)"
                << std::endl;
      return distributed::LaunchSelf(local.ranks);
    }
  }
  // Processes sharing a machine share its cores (the launcher and torchrun
  // set LOCAL_WORLD_SIZE); oversubscribed threads only slow each other.
  const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
  int per_machine = local_world != nullptr ? std::atoi(local_world) : 0;
  if (config.threads() == 0 && per_machine > 1) {
    config.set_threads(std::max(1, CoreCount() / per_machine));
  }
  ASSIGN_OR_RETURN(TrainingRun run, RunTraining(config, options));
  // Rank 0 wrote the files; the other ranks said their digest on stderr.
  if (!options.world.is_primary()) return 0;
  std::printf(
      "best epoch %d: validation accuracy %.4f; %.0f s, peak memory %.2f GiB; "
      "wrote %s/%s\n",
      run.best_epoch(), run.best_validation_accuracy(),
      run.timing().wall_seconds(),
      run.timing().peak_resident_bytes() / double{1 << 30},
      config.output_dir().c_str(), kTrainingRunFile);
  return 0;
}

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Trains a ViT-MoE classifier as a TrainConfig text file says; writes "
      "checkpoint.pt, best_model.pt, training_run.pb, metrics.csv and curves "
      "into its output_dir.\n"
      "  bazel run //pipeline:train -- "
      "--config=pipeline/configs/fashion_mnist_cpu.textproto [--epochs=N "
      "--batch_size=N --learning_rate=X --seed=N --threads=N "
      "--output_dir=DIR --device=cpu|cuda|auto --resume]\n"
      "Data-parallel: start one process per rank with RANK, WORLD_SIZE, "
      "LOCAL_RANK, MASTER_ADDR, MASTER_PORT set (or --rank ... flags), e.g. "
      "bazel-bin/pipeline/distributed/launch --nproc_per_node=2 -- "
      "bazel-bin/pipeline/train --config=...; started alone on a CPU with "
      "threads 0 it does that itself, one process of one thread per core.",
      [](const std::vector<std::string>& arguments) -> absl::StatusOr<int> {
        RETURN_IF_ERROR(vit_moe::RefuseArguments(arguments));
        return vit_moe::pipeline::Run();
      });
}
