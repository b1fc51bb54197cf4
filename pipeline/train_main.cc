// //pipeline:train - trains a ViT-MoE as a TrainConfig text file says.
#include <cstdio>
#include <string>

#include "common/startup.h"
#include "common/status_macros.h"
#include "data/user_path.h"
#include "pipeline/config.h"
#include "pipeline/train_flags.h"
#include "pipeline/trainer.h"

namespace vit_moe::pipeline {
namespace {

absl::Status Run() {
  const std::string config_path = data::ResolveUserPath(ConfigFlag());
  if (config_path.empty()) {
    return absl::InvalidArgumentError(
        "--config is required (a TrainConfig "
        "text file, see pipeline/configs/)");
  }
  ASSIGN_OR_RETURN(TrainConfig config, ReadTrainConfig(config_path));
  FillTrainDefaults(&config);
  RETURN_IF_ERROR(ApplyFlagOverrides(&config));
  RETURN_IF_ERROR(ValidateTrainConfig(config, config_path));
  // Paths in the config, like those on the command line, are relative to
  // the folder the command was typed in.
  config.set_manifest(data::ResolveUserPath(config.manifest()));
  config.set_normalization(data::ResolveUserPath(config.normalization()));
  config.set_output_dir(data::ResolveUserPath(config.output_dir()));

  TrainOptions options;
  options.config_path = config_path;
  options.resume = ResumeFlag();
  ASSIGN_OR_RETURN(TrainingRun run, RunTraining(config, options));
  std::printf("best epoch %d: validation accuracy %.4f; wrote %s/%s\n",
              run.best_epoch(), run.best_validation_accuracy(),
              config.output_dir().c_str(), kTrainingRunFile);
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  vit_moe::InitStage(
      argc, argv,
      "Trains a ViT-MoE classifier as a TrainConfig text file says; writes "
      "checkpoint.pt, best_model.pt, training_run.pb, metrics.csv and curves "
      "into its output_dir.\n"
      "  bazel run //pipeline:train -- "
      "--config=pipeline/configs/fashion_mnist_cpu.textproto [--epochs=N "
      "--batch_size=N --learning_rate=X --seed=N --threads=N "
      "--output_dir=DIR --device=cpu|cuda|auto --resume]");
  absl::Status status = vit_moe::pipeline::Run();
  if (!status.ok()) return vit_moe::ReportError(status);
  return 0;
}
