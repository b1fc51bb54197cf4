#include "pipeline/distributed/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "pipeline/distributed/process.h"

namespace vit_moe::distributed {
namespace {

constexpr char kLauncherPid[] = "VIT_MOE_LAUNCHER_PID";

absl::Status CheckOptions(const LaunchOptions& options) {
  if (options.processes_per_node < 1 || options.nodes < 1 ||
      options.node_rank < 0 || options.node_rank >= options.nodes) {
    return absl::InvalidArgumentError(
        "--nproc_per_node and --nnodes must be >= 1 and --node_rank in "
        "[0, nnodes)");
  }
  if (options.rendezvous_port < 0 || options.rendezvous_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rdzv_port ", options.rendezvous_port, " is not a port (0..65535)"));
  }
  if (options.rendezvous_port == 0 && options.nodes > 1) {
    return absl::InvalidArgumentError(
        "--rdzv_port=0 picks a port of this machine, which the other "
        "machines cannot know: give every node the same port");
  }
  return absl::OkStatus();
}

// A rank's stderr read through a pipe, line by line.
struct RankOutput {
  int rank = 0;
  int fd = -1;
  std::string partial;
  std::string error_line;
};

// Forwards the complete lines in `output.partial` to stderr, holding back
// "error: " lines.
void ForwardLines(RankOutput& output) {
  size_t end;
  while ((end = output.partial.find('\n')) != std::string::npos) {
    std::string line = output.partial.substr(0, end);
    output.partial.erase(0, end + 1);
    if (line.rfind("error: ", 0) == 0) {
      output.error_line = line;
    } else {
      std::cerr << line << '\n';
    }
  }
  std::cerr.flush();
}

// Reads whatever the ranks wrote within `timeout_ms`; closes a pipe at its
// end.
void PumpOutputs(std::vector<RankOutput>& outputs, int timeout_ms) {
  std::vector<pollfd> fds;
  for (const RankOutput& output : outputs) {
    if (output.fd >= 0) fds.push_back({output.fd, POLLIN, 0});
  }
  if (fds.empty() || poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
  for (RankOutput& output : outputs) {
    if (output.fd < 0) continue;
    auto it = std::find_if(fds.begin(), fds.end(),
                           [&](const pollfd& p) { return p.fd == output.fd; });
    if (it == fds.end() || it->revents == 0) continue;
    char buffer[4096];
    const ssize_t n = read(output.fd, buffer, sizeof(buffer));
    if (n > 0) {
      output.partial.append(buffer, n);
      ForwardLines(output);
    } else if (n == 0 || errno != EINTR) {
      // A rank stopped mid-line (SIGTERM after another rank failed) may
      // have written half its error line: only whole ones count.
      if (!output.partial.empty() && output.partial.rfind("error: ", 0) != 0) {
        std::cerr << output.partial << std::endl;
      }
      close(output.fd);
      output.fd = -1;
    }
  }
}

}  // namespace

absl::StatusOr<int> LaunchRanks(const std::vector<std::string>& command,
                                const LaunchOptions& options) {
  if (command.empty()) {
    return absl::InvalidArgumentError(
        "no command given: launch [flags] -- PROGRAM [ARGS...]");
  }
  RETURN_IF_ERROR(CheckOptions(options));
  int port = options.rendezvous_port;
  if (port == 0) {
    ASSIGN_OR_RETURN(port, PickFreePort());
  }
  const bool quiet = options.one_error_line;
  const int per_node = options.processes_per_node;
  std::vector<pid_t> children;
  std::vector<RankOutput> outputs;
  for (int local = 0; local < per_node; ++local) {
    const int rank = options.node_rank * per_node + local;
    const std::map<std::string, std::string> env = {
        {"RANK", std::to_string(rank)},
        {"WORLD_SIZE", std::to_string(per_node * options.nodes)},
        {"LOCAL_RANK", std::to_string(local)},
        {"LOCAL_WORLD_SIZE", std::to_string(per_node)},
        {"MASTER_ADDR", options.rendezvous_address},
        {"MASTER_PORT", std::to_string(port)},
        {kLauncherPid, std::to_string(getpid())},
    };
    ChildOutput child_output;
    int pipe_fds[2] = {-1, -1};
    if (quiet) {
      if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        for (pid_t child : children) kill(child, SIGTERM);
        return absl::UnavailableError("cannot make a pipe for a rank");
      }
      child_output.stderr_fd = pipe_fds[1];
    }
    absl::StatusOr<pid_t> pid = SpawnProcess(command, env, child_output);
    if (quiet) close(pipe_fds[1]);
    if (!pid.ok()) {
      if (quiet) close(pipe_fds[0]);
      for (pid_t child : children) kill(child, SIGTERM);
      return pid.status();
    }
    if (quiet) {
      outputs.push_back({rank, pipe_fds[0], "", ""});
    } else {
      std::cerr << "launch: rank " << rank << " started as pid " << *pid
                << std::endl;
    }
    children.push_back(*pid);
  }
  int first_failure = 0, first_failed_rank = -1;
  std::vector<pid_t> running = children;
  while (!running.empty()) {
    int code = 0;
    pid_t done =
        quiet ? WaitForAnyNow(running, &code) : WaitForAny(running, &code);
    if (done == 0) {
      PumpOutputs(outputs, 100);
      continue;
    }
    if (done < 0) break;
    running.erase(std::find(running.begin(), running.end(), done));
    if (code != 0 && first_failure == 0) {
      first_failure = code;
      first_failed_rank = static_cast<int>(
          std::find(children.begin(), children.end(), done) - children.begin());
      if (!quiet) {
        std::cerr << "launch: pid " << done << " exited with status " << code
                  << "; stopping the other ranks" << std::endl;
      }
      for (pid_t child : running) kill(child, SIGTERM);
    }
  }
  // The ranks have exited; what they wrote last is still in the pipes.
  while (std::any_of(outputs.begin(), outputs.end(),
                     [](const RankOutput& o) { return o.fd >= 0; })) {
    PumpOutputs(outputs, 1000);
  }
  if (quiet && first_failure != 0) {
    std::string line = outputs[0].error_line;
    if (line.empty()) line = outputs[first_failed_rank].error_line;
    if (line.empty()) {
      line = absl::StrCat("error: rank ", outputs[first_failed_rank].rank,
                          " exited with status ", first_failure);
    }
    std::cerr << line << std::endl;
  }
  return first_failure;
}

void StopWithLauncher() {
  const char* text = std::getenv(kLauncherPid);
  pid_t launcher = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &launcher)) return;
  // Programs this rank starts are not the launcher's children.
  unsetenv(kLauncherPid);
  if (getppid() != launcher) return;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The launcher may have died before the request was made.
  if (getppid() != launcher) raise(SIGTERM);
}

absl::StatusOr<std::vector<std::string>> OwnCommandLine() {
  std::ifstream file("/proc/self/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)),
                   std::istreambuf_iterator<char>());
  if (!file.good() && !file.eof()) {
    return absl::UnavailableError("cannot read /proc/self/cmdline");
  }
  std::vector<std::string> argv = absl::StrSplit(text, '\0');
  // Every argument ends with a NUL, so the split leaves one empty string.
  if (!argv.empty() && argv.back().empty()) argv.pop_back();
  if (argv.empty()) return absl::UnavailableError("empty /proc/self/cmdline");
  return argv;
}

absl::StatusOr<int> LaunchSelf(int ranks) {
  ASSIGN_OR_RETURN(std::vector<std::string> self, OwnCommandLine());
  LaunchOptions options;
  options.processes_per_node = ranks;
  options.one_error_line = true;
  return LaunchRanks(self, options);
}

}  // namespace vit_moe::distributed
