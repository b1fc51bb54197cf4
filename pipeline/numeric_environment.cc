#include "pipeline/numeric_environment.h"

#include <torch/version.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/startup.h"

namespace vit_moe::pipeline {
namespace {

constexpr const char* kVariables[] = {
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",   "MKL_NUM_THREADS",  "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
};

// Instruction-set features the float kernels (OpenBLAS, oneDNN, ATen's
// vectorised loops) choose between.
constexpr const char* kFeatures[] = {
    "avx",         "avx2",        "fma",      "avx512f",  "avx512bw",
    "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16",
};

}  // namespace

NumericEnvironment CaptureNumericEnvironment(int threads) {
  NumericEnvironment env;
  env.set_libtorch_version(TORCH_VERSION);
  env.set_blas_library(LoadedBlasLibrary());
  for (const char* name : kVariables) {
    const char* value = std::getenv(name);
    (*env.mutable_variables())[name] = value != nullptr ? value : "";
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::set<std::string> flags;
  while (std::getline(cpuinfo, line)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, ':');
    const std::string key(absl::StripAsciiWhitespace(kv.first));
    const std::string value(absl::StripAsciiWhitespace(kv.second));
    if (key == "model name" && env.cpu_model().empty()) {
      env.set_cpu_model(value);
    } else if (key == "flags" && flags.empty()) {
      for (absl::string_view flag : absl::StrSplit(value, ' ')) {
        flags.emplace(flag);
      }
    }
  }
  for (const char* feature : kFeatures) {
    if (flags.count(feature) > 0) env.add_cpu_features(feature);
  }
  env.set_threads(threads);
  return env;
}

std::vector<std::string> NumericEnvironmentDifferences(
    const NumericEnvironment& recorded, const NumericEnvironment& now) {
  std::vector<std::string> lines;
  auto compare = [&lines](const std::string& what, const std::string& a,
                          const std::string& b) {
    if (a != b) {
      lines.push_back(
          absl::StrCat(what, ": \"", a, "\" recorded, \"", b, "\" now"));
    }
  };
  compare("LibTorch", recorded.libtorch_version(), now.libtorch_version());
  compare("BLAS library", recorded.blas_library(), now.blas_library());
  std::set<std::string> names;
  for (const auto& [name, value] : recorded.variables()) names.insert(name);
  for (const auto& [name, value] : now.variables()) names.insert(name);
  for (const std::string& name : names) {
    auto a = recorded.variables().find(name);
    auto b = now.variables().find(name);
    compare(name, a == recorded.variables().end() ? "" : a->second,
            b == now.variables().end() ? "" : b->second);
  }
  compare("CPU", recorded.cpu_model(), now.cpu_model());
  compare("CPU features", absl::StrJoin(recorded.cpu_features(), " "),
          absl::StrJoin(now.cpu_features(), " "));
  compare("threads", absl::StrCat(recorded.threads()),
          absl::StrCat(now.threads()));
  return lines;
}

}  // namespace vit_moe::pipeline
