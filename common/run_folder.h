// A run folder (a training's output_dir, an evaluation's out_dir): the
// folder one run of a stage writes its files into, held by that run alone
// for its whole life.
//
// Claiming a folder refuses it when another live process holds it (naming
// that process) and, unless the run continues an earlier one (training's
// --resume), when it holds an earlier run's files. The hold is an flock on
// a lock file in the folder that holds the owner's pid: the kernel drops it
// when the process ends, however it ends (kill -9 included), so a lock
// never outlives its run; a stale lock file is taken over, never counted as
// an earlier run's file.
//
// Not its job: choosing which process of a data-parallel job owns the
// folder (the trainer's rank 0 does), or what an earlier run's files mean.
#ifndef VIT_MOE_COMMON_RUN_FOLDER_H_
#define VIT_MOE_COMMON_RUN_FOLDER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

// The lock file's name inside a run folder.
inline constexpr char kRunLockFile[] = ".run.lock";

struct RunFolderRules {
  // The run continues an earlier one there, so its files are expected.
  bool continues_earlier_run = false;
  // Names an interrupted earlier run leaves that this run picks up (the
  // download stage's downloads/): allowed, where anything else is refused.
  std::vector<std::string> may_hold;
  // The way out a refusal of a folder with an earlier run's files names,
  // e.g. "pass --resume to continue that run, or choose another
  // output_dir": only what this stage offers.
  std::string remedy = "choose a new or empty folder";
};

class RunFolder {
 public:
  // Claims `dir` (given as `what`, a flag or config field) for this
  // process, creating it if missing. FailedPrecondition when another
  // process holds it or, under `rules`, it holds an earlier run's files;
  // InvalidArgument when it is not a folder or cannot be locked. A refusal
  // creates and changes nothing.
  static absl::StatusOr<std::unique_ptr<RunFolder>> Claim(
      absl::string_view what, const std::string& dir,
      const RunFolderRules& rules = {});

  // Gives the folder up: removes the lock file, and the folder itself when
  // Claim created it and nothing else was written there.
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

 private:
  RunFolder(std::string dir, int fd, bool created)
      : dir_(std::move(dir)), fd_(fd), created_(created) {}

  std::string dir_;
  int fd_;
  bool created_;
};

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_RUN_FOLDER_H_
