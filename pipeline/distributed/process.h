// Starting and reaping child processes with extra environment variables:
// what the local launcher and the multi-process tests need, nothing more.
#ifndef VIT_MOE_PIPELINE_DISTRIBUTED_PROCESS_H_
#define VIT_MOE_PIPELINE_DISTRIBUTED_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vit_moe::distributed {

// Where a child's stdout and stderr go: a file descriptor of the parent
// (a pipe, a log file), or -1 to share the parent's.
struct ChildOutput {
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Starts `argv` (argv[0] is the program path) with the current environment
// plus `extra_env`. Returns the child's pid.
absl::StatusOr<pid_t> SpawnProcess(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& extra_env,
    const ChildOutput& output = {});

// Waits for any of `pids` to exit; returns its pid and sets `exit_code`
// (128 + signal number for a signalled child).
pid_t WaitForAny(const std::vector<pid_t>& pids, int* exit_code);

// As WaitForAny, but returns 0 at once when none of `pids` has exited.
pid_t WaitForAnyNow(const std::vector<pid_t>& pids, int* exit_code);

// A TCP port on 127.0.0.1 that was free a moment ago.
absl::StatusOr<int> PickFreePort();

}  // namespace vit_moe::distributed

#endif  // VIT_MOE_PIPELINE_DISTRIBUTED_PROCESS_H_
