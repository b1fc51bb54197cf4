#include "common/startup.h"

#include <dlfcn.h>
#include <glog/logging.h>
#include <sched.h>
#include <torch/torch.h>

#include <exception>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/command_line.h"

ABSL_FLAG(int, threads, 0,
          "LibTorch intra-op threads; 0 = all cores of this machine. A "
          "config's own threads field, where a stage has one, applies when "
          "this flag is left at 0.");

namespace vit_moe {
namespace {

// Everything before the stage's own work: logging, flags, threads, the
// BLAS and allocator checks; a --help command line stops after the flags.
absl::StatusOr<CommandLine> StartStage(int argc, char** argv) {
  FLAGS_logtostderr = true;
  if (!google::IsGoogleLoggingInitialized()) google::InitGoogleLogging(argv[0]);
  absl::StatusOr<CommandLine> line = ParseFlags(argc, argv);
  if (!line.ok() || line->help) return line;
  const int requested = absl::GetFlag(FLAGS_threads);
  if (requested < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads=", requested,
                     ": must be 0 (all cores) or a positive count"));
  }
  VLOG(1) << "LibTorch threads: " << ConfigureThreads(requested);
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
  return line;
}

// LibTorch's messages carry a C++ backtrace after the first lines; the user
// needs the message.
std::string ExceptionMessage(const std::exception& e) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
    return absl::StrCat("LibTorch: ", torch_error->what_without_backtrace());
  }
  return e.what();
}

}  // namespace

int CoreCount() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    return std::max(1, CPU_COUNT(&allowed));
  }
  unsigned int cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

int ConfigureThreads(int requested) {
  CHECK_GE(requested, 0) << "callers refuse negative thread counts";
  const int cores = CoreCount();
  if (requested > cores) {
    LOG(WARNING) << "threads " << requested << " capped at the " << cores
                 << " core(s) this process may run on: more threads than "
                    "cores only wait for each other";
  }
  const int threads = requested > 0 ? std::min(requested, cores) : cores;
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

int RunStage(int argc, char** argv, absl::string_view usage,
             const StageBody& body) {
  absl::StatusOr<CommandLine> line = StartStage(argc, argv);
  if (!line.ok()) return ReportError(line.status());
  if (line->help) {
    std::cout << HelpText(usage);
    return 0;
  }
  try {
    absl::StatusOr<int> code = body(line->arguments);
    return code.ok() ? *code : ReportError(code.status());
  } catch (const std::exception& e) {
    return ReportError(absl::InvalidArgumentError(ExceptionMessage(e)));
  }
}

absl::Status RefuseArguments(const std::vector<std::string>& arguments) {
  if (arguments.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unexpected argument '", arguments[0], "'; see --help"));
}

int RunStage(int argc, char** argv, absl::string_view usage,
             const std::function<absl::Status()>& body) {
  return RunStage(argc, argv, usage,
                  [&body](const std::vector<std::string>& arguments)
                      -> absl::StatusOr<int> {
                    if (absl::Status s = RefuseArguments(arguments); !s.ok())
                      return s;
                    absl::Status status = body();
                    if (!status.ok()) return status;
                    return 0;
                  });
}

int ReportError(const absl::Status& status) {
  // One line, whatever the message holds, so scripts can grep it.
  std::cerr << "error: " << absl::StrReplaceAll(status.message(), {{"\n", " "}})
            << std::endl;
  return status.code() == absl::StatusCode::kAborted ? kExitFailure
                                                     : kExitUserError;
}

}  // namespace vit_moe
