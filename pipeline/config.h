// TrainConfig handling: reading the text file, filling defaults, and one
// validation pass before any work starts. Errors name the config file and
// the field, e.g. "run.textproto: schedule.epochs must be > 0 (got 0)".
// Model and augmentation sections are validated by their own packages when
// they are resolved; this file checks the training fields.
#ifndef VIT_MOE_PIPELINE_CONFIG_H_
#define VIT_MOE_PIPELINE_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

// Parses a TrainConfig text file; unknown fields are errors.
absl::StatusOr<TrainConfig> ReadTrainConfig(const std::string& path);

// Writes the documented default into every unset training field (see
// train_config.proto). Idempotent.
void FillTrainDefaults(TrainConfig* config);

// Checks a filled config. `source` names the file in error messages.
absl::Status ValidateTrainConfig(const TrainConfig& config,
                                 const std::string& source);

// "cpu", "cuda", "auto" -> Device; InvalidArgument otherwise.
absl::StatusOr<Device> ParseDevice(const std::string& name);

// "float32", "bf16_mixed" -> Precision; InvalidArgument otherwise.
absl::StatusOr<Precision> ParsePrecision(const std::string& name);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_CONFIG_H_
