// Test-only: //pipeline:train as a child process, the way users run it, for
// the single-process and multi-process training tests.
#ifndef VIT_MOE_PIPELINE_TRAIN_SUBPROCESS_H_
#define VIT_MOE_PIPELINE_TRAIN_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pipeline/distributed/process.h"

namespace vit_moe::pipeline::testing {

// Writes a tiny synthetic store under `root`/store and a TrainConfig
// `root`/tiny.textproto that trains on it: the store's fields followed by
// `settings` (TrainConfig text). Returns the config's path.
absl::StatusOr<std::string> WriteTinyRun(const std::string& root,
                                         absl::string_view settings);

// Flags for a run of `config` writing into `output_dir`, then `extra`.
std::vector<std::string> TrainArgs(const std::string& config,
                                   const std::string& output_dir,
                                   const std::vector<std::string>& extra = {});

// Starts the test's runfiles copy of //pipeline:train with `args` and
// `extra_env`; CHECK-fails when it cannot (a broken test setup).
pid_t StartTrain(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& extra_env,
                 const distributed::ChildOutput& output);

// A waitpid status as a test compares it: the exit code, or minus the
// signal that killed the child.
int ExitCode(int wait_status);

}  // namespace vit_moe::pipeline::testing

#endif  // VIT_MOE_PIPELINE_TRAIN_SUBPROCESS_H_
