// Process start-up shared by every stage binary: flags with --help, glog to
// stderr, LibTorch thread count, a BLAS sanity check, and the mapping from a
// Status to a one-line error and an exit code.
#ifndef VIT_MOE_COMMON_STARTUP_H_
#define VIT_MOE_COMMON_STARTUP_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

// Parses flags (exits on --help or a bad flag), initialises logging, applies
// --threads and warns when LibTorch runs on an unoptimised BLAS. Returns the
// positional arguments, program name excluded.
std::vector<std::string> InitStage(int argc, char** argv,
                                   absl::string_view usage);

// Sets LibTorch's intra-op threads: `requested` > 0 exactly, 0 = all cores.
// Returns the count in effect.
int ConfigureThreads(int requested);

// Logical cores of this machine (at least 1).
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

// Exit status for user-caused errors (bad flag, config, input file).
inline constexpr int kExitUserError = 2;
// Exit status for failures at run time (diverged training, failed gate).
inline constexpr int kExitFailure = 1;

// Prints "error: <message>" as one line on stderr and returns the exit
// status: kExitUserError for InvalidArgument, NotFound, FailedPrecondition,
// DataLoss, OutOfRange and AlreadyExists; kExitFailure otherwise.
int ReportError(const absl::Status& status);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_STARTUP_H_
