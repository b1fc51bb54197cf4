// The one entry point of every stage binary: flags with --help, glog to
// stderr, LibTorch's thread count, the BLAS and allocator checks, and the
// exit contract.
//
// Exit status of every binary:
//   0  done (a gate passed, a reproduction matched)
//   1  the stage ran and its check failed (a gate missed a threshold, a
//      reproduction differs, training diverged)
//   2  bad input or environment: a bad flag, config or input file, a
//      missing device; the one line on stderr, "error: ...", says which
// A stage may define further codes above 2 for verdicts of its own
// (//pipeline:reproduce exits 3 for "within tolerance").
#ifndef VIT_MOE_COMMON_STARTUP_H_
#define VIT_MOE_COMMON_STARTUP_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

// A stage's work, given its positional arguments: the exit status it chose
// (0, or kExitFailure when its check failed) or the error that stopped it.
// A function returning absl::Status converts to this type and would turn
// success into an error: give such bodies to the overload below.
using StageBody = std::function<absl::StatusOr<int>(
    const std::vector<std::string>& arguments)>;

// Parses the flags (--help prints `usage` and the flags, exit 0),
// initialises logging, applies --threads, warns about a slow BLAS or
// allocator, then runs `body`. A Status error or an exception escaping
// `body` (LibTorch's, OpenCV's, the standard library's) becomes one
// "error: ..." line on stderr and the exit status of the contract above.
// Returns the process's exit status.
int RunStage(int argc, char** argv, absl::string_view usage,
             const StageBody& body);

// As above for a stage that takes no positional arguments (any is refused)
// and has no verdict beyond success.
int RunStage(int argc, char** argv, absl::string_view usage,
             const std::function<absl::Status()>& body);

// InvalidArgument naming the first argument, for stages that take none.
absl::Status RefuseArguments(const std::vector<std::string>& arguments);

// Sets LibTorch's intra-op threads: `requested` > 0 exactly, up to the
// cores this process may run on (more is capped, with a warning), 0 = all
// of them. Returns the count in effect. `requested` must not be negative.
int ConfigureThreads(int requested);

// Cores this process may run on (its CPU affinity, so `taskset` counts),
// at least 1.
int CoreCount();

// Path of the BLAS library mapped into this process (libopenblas*,
// libblas*, libmkl*, libblis*; Debian's libblas.so.3 lies in a folder named
// for the implementation the alternatives system chose), or "" when none is
// mapped (a BLAS linked statically into LibTorch).
std::string LoadedBlasLibrary();

// True when the process has an optimised BLAS (OpenBLAS or MKL) for
// LibTorch's matrix products; the reference BLAS is 10-25x slower.
bool UsingOptimizedBlas();

// True when malloc is tcmalloc (the build links it into every binary); with
// glibc's malloc training here ran 2x slower in 4x the memory.
bool UsingTcmalloc();

// Exit status for bad input or environment (bad flag, config, input file).
inline constexpr int kExitUserError = 2;
// Exit status for a check that failed at run time (gate, reproduction,
// diverged training).
inline constexpr int kExitFailure = 1;

// Prints "error: <message>" as one line on stderr and returns the exit
// status: kExitFailure for Aborted (how a stage reports that its run-time
// check failed, e.g. training diverged), kExitUserError for every other
// code.
int ReportError(const absl::Status& status);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_STARTUP_H_
