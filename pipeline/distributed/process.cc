#include "pipeline/distributed/process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace vit_moe::distributed {

absl::StatusOr<pid_t> SpawnProcess(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& extra_env,
    const ChildOutput& output) {
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string key = text.substr(0, text.find('='));
    if (extra_env.count(key) == 0) env_strings.push_back(text);
  }
  for (const auto& [key, value] : extra_env) {
    env_strings.push_back(absl::StrCat(key, "=", value));
  }
  std::vector<char*> env_pointers;
  for (std::string& text : env_strings) env_pointers.push_back(text.data());
  env_pointers.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> argv_pointers;
  for (std::string& arg : argv_copy) argv_pointers.push_back(arg.data());
  argv_pointers.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (output.stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, output.stdout_fd, STDOUT_FILENO);
  }
  if (output.stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, output.stderr_fd, STDERR_FILENO);
  }
  pid_t pid = 0;
  int error = posix_spawnp(&pid, argv_pointers[0], &actions, nullptr,
                           argv_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::NotFoundError(absl::StrCat("cannot start ", argv.front(), ": ",
                                            std::strerror(error)));
  }
  return pid;
}

namespace {

pid_t Wait(const std::vector<pid_t>& pids, int* exit_code, int options) {
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, options);
    if (pid == 0) return 0;
    if (pid < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) continue;
    *exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return pid;
  }
}

}  // namespace

pid_t WaitForAny(const std::vector<pid_t>& pids, int* exit_code) {
  return Wait(pids, exit_code, 0);
}

pid_t WaitForAnyNow(const std::vector<pid_t>& pids, int* exit_code) {
  return Wait(pids, exit_code, WNOHANG);
}

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::UnavailableError("cannot bind a port on 127.0.0.1");
  }
  int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

}  // namespace vit_moe::distributed
