#include "pipeline/train_subprocess.h"

#include <glog/logging.h>
#include <sys/wait.h>

#include <cstdlib>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "pipeline/test_dataset.h"

namespace vit_moe::pipeline::testing {

absl::StatusOr<std::string> WriteTinyRun(const std::string& root,
                                         absl::string_view settings) {
  ASSIGN_OR_RETURN(TestDataset data, WriteTestDataset(root + "/store"));
  std::string config =
      absl::StrCat("manifest: \"", data.manifest, "\"\n", "normalization: \"",
                   data.normalization, "\"\n", "output_dir: \"", root,
                   "/unused\"\n", settings);
  std::string path = root + "/tiny.textproto";
  RETURN_IF_ERROR(WriteFileAtomically(path, config));
  return path;
}

std::vector<std::string> TrainArgs(const std::string& config,
                                   const std::string& output_dir,
                                   const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--config=" + config,
                                   "--output_dir=" + output_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

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
