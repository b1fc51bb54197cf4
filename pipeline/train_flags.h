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

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_TRAIN_FLAGS_H_
