// Command-line flags of //pipeline:train. Each override flag names one
// TrainConfig field and, when given, replaces that field; left out, the
// config file's value (or its default) stands. --threads is the common
// start-up flag: non-zero overrides `threads`.
#ifndef VIT_MOE_PIPELINE_TRAIN_FLAGS_H_
#define VIT_MOE_PIPELINE_TRAIN_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

// Value of --config (may be empty: the caller reports it).
std::string ConfigFlag();
// Value of --resume.
bool ResumeFlag();

// Applies the override flags that were given to `config`.
absl::Status ApplyFlagOverrides(TrainConfig* config);

// ValidateTrainConfig of `config`: `from_file` (the file's values, defaults
// filled) with the override flags applied. A violation the flags brought
// in is named by the flags ("--batch_size=-4: batch_size must be > 0"),
// one of the file by `config_path`, so an error never blames the file for
// a flag's value.
absl::Status ValidateWithOverrides(const TrainConfig& config,
                                   const TrainConfig& from_file,
                                   const std::string& config_path);

// The override flags that set values, as typed ("--batch_size=-4
// --set=..."); empty when none was. The path flags are left out.
std::string GivenOverrideFlags();

// How errors name a config field an override flag may set: "--FLAG" when
// that flag was given, else the field's path (`field`).
std::string FieldName(const char* flag, const char* field);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_TRAIN_FLAGS_H_
