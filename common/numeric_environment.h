// The numeric environment of this process (common/numeric_environment.proto):
// what, besides code, config and data, decides the float results of a run,
// a one-line account of it for start-up logs, and a readable account of how
// two environments differ.
#ifndef VIT_MOE_COMMON_NUMERIC_ENVIRONMENT_H_
#define VIT_MOE_COMMON_NUMERIC_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "common/numeric_environment.pb.h"

namespace vit_moe {

// Reads the loaded libraries (/proc/self/maps), OpenBLAS's kernel choice,
// LibTorch's build configuration, the environment and /proc/cpuinfo.
// `threads` is the LibTorch intra-op thread count in effect; `device`
// ("cpu", "cuda:0") and `precision` ("float32", "bf16_mixed") are what the
// stage computes in.
NumericEnvironment CaptureNumericEnvironment(int threads,
                                             const std::string& device,
                                             const std::string& precision);

// "numeric environment: LibTorch 1.13.0, OpenBLAS Haswell
// (/usr/lib/.../libopenblas.so.0; OPENBLAS_CORETYPE=Haswell), ATen AVX2,
// oneDNN v2.6.3 enabled, 2 threads, cpu, bf16_mixed" - for start-up logs.
std::string DescribeNumericEnvironment(const NumericEnvironment& env);

// One line per field that differs, e.g. `OPENBLAS_CORETYPE: "" recorded,
// "Haswell" now`; empty when they agree. Fields the recorded side lacks
// (written by an older version) are not compared.
std::vector<std::string> NumericEnvironmentDifferences(
    const NumericEnvironment& recorded, const NumericEnvironment& now);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_NUMERIC_ENVIRONMENT_H_
