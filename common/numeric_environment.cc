#include "common/numeric_environment.h"

#include <ATen/Context.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/startup.h"

namespace vit_moe {
namespace {

constexpr const char* kVariables[] = {
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",   "MKL_NUM_THREADS",     "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",  "ATEN_CPU_CAPABILITY",
};

// Instruction-set features the float kernels (OpenBLAS, oneDNN, ATen's
// vectorised loops) choose between.
constexpr const char* kFeatures[] = {
    "avx",         "avx2",        "fma",      "avx512f",  "avx512bw",
    "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16",
};

// OpenBLAS exports its kernel choice; looked up at run time because
// LibTorch may be linked against another BLAS.
std::string OpenBlasCore() {
  using CoreName = char* (*)();
  auto core_name =
      reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) return "";
  const char* name = core_name();
  return name != nullptr ? std::string(absl::StripAsciiWhitespace(name)) : "";
}

// LibTorch reports the capability its dispatcher chose only inside its
// build summary ("  - CPU capability usage: AVX2").
std::string AtenCpuCapability() {
  constexpr absl::string_view kKey = "CPU capability usage:";
  for (absl::string_view line : absl::StrSplit(at::show_config(), '\n')) {
    const size_t at = line.find(kKey);
    if (at != absl::string_view::npos) {
      return std::string(
          absl::StripAsciiWhitespace(line.substr(at + kKey.size())));
    }
  }
  return "";
}

std::string OneDnn() {
  if (!at::hasMKLDNN()) return "absent";
  std::string version = at::get_mkldnn_version();
  // "Intel(R) MKL-DNN v2.6.3 (Git Hash ...)": the version word is enough.
  for (absl::string_view word : absl::StrSplit(version, ' ')) {
    if (absl::StartsWith(word, "v")) version = std::string(word);
  }
  return absl::StrCat(version, at::globalContext().userEnabledMkldnn()
                                   ? " enabled"
                                   : " disabled");
}

}  // namespace

NumericEnvironment CaptureNumericEnvironment(int threads,
                                             const std::string& device,
                                             const std::string& precision) {
  NumericEnvironment env;
  env.set_libtorch_version(TORCH_VERSION);
  env.set_blas_library(LoadedBlasLibrary());
  env.set_blas_core(OpenBlasCore());
  env.set_aten_cpu_capability(AtenCpuCapability());
  env.set_onednn(OneDnn());
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
  env.set_device(device);
  env.set_precision(precision);
  return env;
}

std::string DescribeNumericEnvironment(const NumericEnvironment& env) {
  std::vector<std::string> set_variables;
  for (const auto& [name, value] : env.variables()) {
    if (!value.empty()) set_variables.push_back(absl::StrCat(name, "=", value));
  }
  std::sort(set_variables.begin(), set_variables.end());
  const std::string blas =
      env.blas_library().empty() ? "no BLAS mapped" : env.blas_library();
  return absl::StrCat(
      "numeric environment: LibTorch ", env.libtorch_version(), ", BLAS ",
      env.blas_core().empty() ? "" : absl::StrCat(env.blas_core(), " "), "(",
      blas,
      set_variables.empty()
          ? ""
          : absl::StrCat("; ", absl::StrJoin(set_variables, " ")),
      "), ATen ", env.aten_cpu_capability(), ", oneDNN ", env.onednn(), ", ",
      env.threads(), " threads, ", env.device(), ", ", env.precision());
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
  // Fields added after a record was written are empty there; comparing
  // them would blame every old record on the version change.
  auto compare_if_recorded = [&compare](const std::string& what,
                                        const std::string& a,
                                        const std::string& b) {
    if (!a.empty()) compare(what, a, b);
  };
  compare("LibTorch", recorded.libtorch_version(), now.libtorch_version());
  compare("BLAS library", recorded.blas_library(), now.blas_library());
  compare_if_recorded("BLAS kernel", recorded.blas_core(), now.blas_core());
  compare_if_recorded("ATen CPU capability", recorded.aten_cpu_capability(),
                      now.aten_cpu_capability());
  compare_if_recorded("oneDNN", recorded.onednn(), now.onednn());
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
  compare_if_recorded("device", recorded.device(), now.device());
  compare_if_recorded("precision", recorded.precision(), now.precision());
  return lines;
}

}  // namespace vit_moe
