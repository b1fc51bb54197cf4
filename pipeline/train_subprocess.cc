#include "pipeline/train_subprocess.h"

#include <glog/logging.h>
#include <sys/wait.h>

#include <cstdlib>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace vit_moe::pipeline::testing {

pid_t StartTrain(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& extra_env,
                 const distributed::ChildOutput& output) {
  std::vector<std::string> argv = {absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                                                std::getenv("TEST_WORKSPACE"),
                                                "/pipeline/train")};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<pid_t> pid =
      distributed::SpawnProcess(argv, extra_env, output);
  CHECK(pid.ok()) << pid.status();
  return *pid;
}

int ExitCode(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status)
                                : -WTERMSIG(wait_status);
}

}  // namespace vit_moe::pipeline::testing
