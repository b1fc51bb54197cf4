#include "common/startup.h"

#include <dlfcn.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

ABSL_FLAG(int, threads, 0,
          "LibTorch intra-op threads; 0 = all cores of this machine. A "
          "config's own threads field, where a stage has one, applies when "
          "this flag is left at 0.");

namespace vit_moe {
namespace {

// --help lists this project's flags, not Abseil's internal ones.
bool IsProjectFlagFile(absl::string_view file) {
  return !absl::StrContains(file, "absl/");
}

}  // namespace

int CoreCount() {
  unsigned int cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

int ConfigureThreads(int requested) {
  int threads = requested > 0 ? requested : CoreCount();
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

std::string LoadedBlasLibrary() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t path = line.find('/');
    if (path == std::string::npos) continue;
    const absl::string_view file =
        absl::string_view(line).substr(line.rfind('/') + 1);
    for (const char* prefix : {"libopenblas", "libblas", "libmkl", "libblis"}) {
      if (absl::StartsWith(file, prefix)) return line.substr(path);
    }
  }
  return "";
}

bool UsingOptimizedBlas() {
  // pytorch.org builds link MKL statically and say so in their config.
  std::string config = torch::show_config();
  if (absl::StrContains(config, "BLAS_INFO=mkl") ||
      absl::StrContains(config, "BLAS_INFO=open")) {
    return true;
  }
  // Debian's LibTorch goes through libblas.so.3, whichever implementation
  // the alternatives system points it at; the mapped path tells which.
  const std::string blas = LoadedBlasLibrary();
  return absl::StrContains(blas, "openblas") ||
         absl::StrContains(blas, "mkl") || absl::StrContains(blas, "blis");
}

bool UsingTcmalloc() { return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr; }

std::vector<std::string> InitStage(int argc, char** argv,
                                   absl::string_view usage) {
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = IsProjectFlagFile;
  usage_config.contains_helpshort_flags = IsProjectFlagFile;
  usage_config.normalize_filename = [](absl::string_view file) {
    return std::string(file);
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);

  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  int threads = ConfigureThreads(absl::GetFlag(FLAGS_threads));
  VLOG(1) << "LibTorch threads: " << threads;
  if (!UsingOptimizedBlas()) {
    LOG(WARNING) << "LibTorch is using the reference BLAS: matrix products "
                    "run 10-25x slower. Install libopenblas0-openmp "
                    "(ci/setup.sh does).";
  }
  if (!UsingTcmalloc()) {
    LOG(WARNING) << "malloc is not tcmalloc: training runs about 2x slower "
                    "in 4x the memory. Build with Bazel (.bazelrc links it) "
                    "or LD_PRELOAD libtcmalloc_minimal.so.4.";
  }
  return std::vector<std::string>(positional.begin() + 1, positional.end());
}

int ReportError(const absl::Status& status) {
  // One line, whatever the message holds, so scripts can grep it.
  std::cerr << "error: " << absl::StrReplaceAll(status.message(), {{"\n", " "}})
            << std::endl;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return kExitUserError;
    default:
      return kExitFailure;
  }
}

}  // namespace vit_moe
