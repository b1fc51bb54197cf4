#include "pipeline/train_flags.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_field_path.h"
#include "common/status_macros.h"
#include "pipeline/config.h"

ABSL_DECLARE_FLAG(int, threads);

ABSL_FLAG(std::string, config, "", "TrainConfig text file (required).");
ABSL_FLAG(bool, resume, false,
          "Continue from <output_dir>/checkpoint.pt exactly where it stopped "
          "(same config required).");
ABSL_FLAG(std::optional<std::string>, manifest, std::nullopt,
          "Overrides manifest (the DatasetManifest to train on).");
ABSL_FLAG(std::optional<std::string>, normalization, std::nullopt,
          "Overrides normalization (the Normalization artifact).");
ABSL_FLAG(std::optional<int>, epochs, std::nullopt,
          "Overrides schedule.epochs.");
ABSL_FLAG(std::optional<int>, batch_size, std::nullopt,
          "Overrides batch_size (global images per step).");
ABSL_FLAG(std::optional<double>, learning_rate, std::nullopt,
          "Overrides optimizer.learning_rate (peak).");
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt, "Overrides seed.");
ABSL_FLAG(std::optional<std::string>, output_dir, std::nullopt,
          "Overrides output_dir.");
ABSL_FLAG(std::optional<std::string>, device, std::nullopt,
          "Overrides device: auto, cpu or cuda.");
ABSL_FLAG(std::optional<std::string>, precision, std::nullopt,
          "Overrides precision: float32; bf16_mixed (bf16 autocast where "
          "the device computes bf16 natively, float32 elsewhere); or "
          "fp16_mixed (CUDA: fp16 autocast with dynamic loss scaling).");
ABSL_FLAG(std::optional<std::string>, init_from, std::nullopt,
          "Overrides fine_tune.init_from: fine-tune the model file (a "
          "best_model.pt) instead of training from scratch; the "
          "architecture comes from it, a head for another class count "
          "starts afresh.");
ABSL_FLAG(std::optional<int>, checkpoint_every_steps, std::nullopt,
          "Overrides checkpoint_every_steps (0 = epoch ends only).");
ABSL_FLAG(std::vector<std::string>, set, {},
          "FIELD.PATH=VALUE: sets any TrainConfig field, e.g. "
          "--set=model.moe.top_k=1 --set=augment.preset=light. Repeatable; "
          "applied in order after the other override flags. Values as in "
          "the config file (numbers, true/false, enum names, strings); a "
          "value with a comma belongs in the config file.");
ABSL_FLAG(bool, debug, false,
          "Turns DEBUG mode on (debug.enabled: anomaly detection, per-step "
          "NaN/Inf checks and routing statistics); off leaves the config's "
          "setting.");

namespace vit_moe::pipeline {

std::string ConfigFlag() { return absl::GetFlag(FLAGS_config); }

bool ResumeFlag() { return absl::GetFlag(FLAGS_resume); }

absl::Status ApplyFlagOverrides(TrainConfig* config) {
  if (auto v = absl::GetFlag(FLAGS_manifest)) config->set_manifest(*v);
  if (auto v = absl::GetFlag(FLAGS_normalization)) {
    config->set_normalization(*v);
  }
  if (auto v = absl::GetFlag(FLAGS_epochs)) {
    config->mutable_schedule()->set_epochs(*v);
  }
  if (auto v = absl::GetFlag(FLAGS_batch_size)) config->set_batch_size(*v);
  if (auto v = absl::GetFlag(FLAGS_learning_rate)) {
    config->mutable_optimizer()->set_learning_rate(*v);
  }
  if (auto v = absl::GetFlag(FLAGS_seed)) config->set_seed(*v);
  if (auto v = absl::GetFlag(FLAGS_output_dir)) config->set_output_dir(*v);
  if (auto v = absl::GetFlag(FLAGS_device)) {
    ASSIGN_OR_RETURN(Device device, ParseDevice(*v));
    config->set_device(device);
  }
  if (auto v = absl::GetFlag(FLAGS_precision)) {
    ASSIGN_OR_RETURN(Precision precision, ParsePrecision(*v));
    config->set_precision(precision);
  }
  if (auto v = absl::GetFlag(FLAGS_init_from)) {
    config->mutable_fine_tune()->set_init_from(*v);
  }
  if (auto v = absl::GetFlag(FLAGS_checkpoint_every_steps)) {
    config->set_checkpoint_every_steps(*v);
  }
  if (absl::GetFlag(FLAGS_debug)) config->mutable_debug()->set_enabled(true);
  if (int threads = absl::GetFlag(FLAGS_threads); threads != 0) {
    config->set_threads(threads);
  }
  for (const std::string& assignment : absl::GetFlag(FLAGS_set)) {
    absl::Status status = SetFieldByPath(assignment, config);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set ", status.message()));
    }
  }
  return absl::OkStatus();
}

std::string GivenOverrideFlags() {
  std::vector<std::string> given;
  // --manifest, --normalization and --output_dir are left out: they only
  // name files, which errors about them name themselves.
  for (const char* name :
       {"epochs", "batch_size", "learning_rate", "seed", "device", "precision",
        "init_from", "checkpoint_every_steps", "debug", "threads", "set"}) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag != nullptr && flag->CurrentValue() != flag->DefaultValue()) {
      given.push_back(absl::StrCat("--", name, "=", flag->CurrentValue()));
    }
  }
  return absl::StrJoin(given, " ");
}

absl::Status ValidateWithOverrides(const TrainConfig& config,
                                   const TrainConfig& from_file,
                                   const std::string& config_path) {
  absl::Status status = ValidateTrainConfig(config, config_path);
  const std::string flags = GivenOverrideFlags();
  if (status.ok() || flags.empty()) return status;
  // The paths a file may leave to the flags, so that their absence there
  // does not hide the file's own first violation.
  TrainConfig file_only = from_file;
  file_only.set_manifest(config.manifest());
  file_only.set_normalization(config.normalization());
  file_only.set_output_dir(config.output_dir());
  file_only.mutable_fine_tune()->set_init_from(config.fine_tune().init_from());
  if (ValidateTrainConfig(file_only, config_path).message() ==
      status.message()) {
    return status;
  }
  return ValidateTrainConfig(config, flags);
}

std::string FieldName(const char* flag, const char* field) {
  const absl::CommandLineFlag* given = absl::FindCommandLineFlag(flag);
  return given != nullptr && given->CurrentValue() != given->DefaultValue()
             ? absl::StrCat("--", flag)
             : field;
}

}  // namespace vit_moe::pipeline
