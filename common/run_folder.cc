#include "common/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace vit_moe {
namespace {

namespace fs = std::filesystem;

std::string LockPath(const std::string& dir) {
  return (fs::path(dir) / kRunLockFile).string();
}

// The pid the holder of the lock file `fd` wrote, as text ("an unknown
// process" while it has not written it yet).
std::string HolderOf(int fd) {
  char buffer[32] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  int pid = 0;
  if (n > 0 && absl::SimpleAtoi(absl::StripAsciiWhitespace(buffer), &pid)) {
    return absl::StrCat("process ", pid);
  }
  return "another process";
}

absl::Status Busy(absl::string_view what, const std::string& dir, int fd) {
  return absl::FailedPreconditionError(absl::StrCat(
      what, "=", dir, " is in use by ", HolderOf(fd), " (it holds ",
      LockPath(dir),
      "): two runs must not write one folder; wait for that run to end or "
      "choose another folder"));
}

// Refuses a folder another live process holds, without creating anything.
absl::Status CheckNotHeld(absl::string_view what, const std::string& dir) {
  const int fd = open(LockPath(dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::OkStatus();
  absl::Status status = absl::OkStatus();
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) status = Busy(what, dir, fd);
  close(fd);
  return status;
}

// Refuses a folder holding files of an earlier run (the lock file aside).
absl::Status CheckNoEarlierRun(absl::string_view what, const std::string& dir,
                               const RunFolderRules& rules) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (!fs::exists(status)) return absl::OkStatus();
  if (!fs::is_directory(status)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "=", dir, " is a file, not a folder"));
  }
  if (rules.continues_earlier_run) return absl::OkStatus();
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name != kRunLockFile &&
        std::find(rules.may_hold.begin(), rules.may_hold.end(), name) ==
            rules.may_hold.end()) {
      names.push_back(name);
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "=", dir, ": cannot list: ", error.message()));
  }
  if (names.empty()) return absl::OkStatus();
  std::sort(names.begin(), names.end());
  const size_t shown = std::min<size_t>(names.size(), 3);
  return absl::FailedPreconditionError(
      absl::StrCat(what, "=", dir, " holds files of an earlier run (",
                   absl::StrJoin(names.begin(), names.begin() + shown, ", "),
                   names.size() > shown ? ", ..." : "", "); ", rules.remedy));
}

bool SameFile(int fd, const std::string& path) {
  struct stat opened, named;
  return fstat(fd, &opened) == 0 && stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunFolder>> RunFolder::Claim(
    absl::string_view what, const std::string& dir,
    const RunFolderRules& rules) {
  if (absl::Status held = CheckNotHeld(what, dir); !held.ok()) return held;
  if (absl::Status earlier = CheckNoEarlierRun(what, dir, rules);
      !earlier.ok()) {
    return earlier;
  }
  std::error_code error;
  const bool created = fs::create_directories(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "=", dir, ": cannot create: ", error.message()));
  }
  const std::string lock_path = LockPath(dir);
  // A lock file its holder removed between our open and our flock is no
  // longer the folder's lock: open the one the folder holds now.
  for (;;) {
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const std::string reason = std::strerror(errno);
      if (created) fs::remove(dir, error);
      return absl::InvalidArgumentError(absl::StrCat(
          what, "=", dir, ": cannot create ", lock_path, ": ", reason));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      absl::Status busy = Busy(what, dir, fd);
      close(fd);
      return busy;
    }
    if (!SameFile(fd, lock_path)) {
      close(fd);
      continue;
    }
    const std::string pid = absl::StrCat(getpid(), "\n");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
      const std::string reason = std::strerror(errno);
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(lock_path, ": cannot write: ", reason));
    }
    return std::unique_ptr<RunFolder>(new RunFolder(dir, fd, created));
  }
}

RunFolder::~RunFolder() {
  // Removed while still held, so no process can take the old file for the
  // folder's lock (Claim checks that the file it locked is still there).
  unlink(LockPath(dir_).c_str());
  close(fd_);
  if (created_) rmdir(dir_.c_str());
}

}  // namespace vit_moe
