// The numeric environment of this process (training_run.proto's
// NumericEnvironment): what, besides code and config, decides the float
// results of a run, and a readable account of how two environments differ.
#ifndef VIT_MOE_PIPELINE_NUMERIC_ENVIRONMENT_H_
#define VIT_MOE_PIPELINE_NUMERIC_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

// Reads the loaded libraries (/proc/self/maps), the environment and
// /proc/cpuinfo; `threads` is the LibTorch intra-op thread count in effect.
NumericEnvironment CaptureNumericEnvironment(int threads);

// One line per field that differs, e.g. `OPENBLAS_CORETYPE: "" recorded,
// "Haswell" now`; empty when they agree.
std::vector<std::string> NumericEnvironmentDifferences(
    const NumericEnvironment& recorded, const NumericEnvironment& now);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_NUMERIC_ENVIRONMENT_H_
