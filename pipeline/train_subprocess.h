// Test-only: //pipeline:train as a child process, the way users run it, for
// the single-process and multi-process training tests.
#ifndef VIT_MOE_PIPELINE_TRAIN_SUBPROCESS_H_
#define VIT_MOE_PIPELINE_TRAIN_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "pipeline/distributed/process.h"

namespace vit_moe::pipeline::testing {

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
