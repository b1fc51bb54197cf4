// The files a stage reads, known before any work, and the check that no
// output destroys one of them. An output is refused when it is an input,
// lies inside an input folder, or is a folder that holds an input. Paths
// are compared by device and inode where they exist (so a symlink, a `..`
// or a hard link to an input is the input) and by canonical path where
// they do not yet.
//
// Not its job: reading the inputs. A stage lists them from its flags and
// config, and the files a manifest lists from the manifest
// (data/store_files.h), then checks each output path before it opens one.
#ifndef VIT_MOE_COMMON_STAGE_FILES_H_
#define VIT_MOE_COMMON_STAGE_FILES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

class StageFiles {
 public:
  // An input the stage reads, a file or a folder (with all it holds), as
  // the user named it: `what` is the flag ("--model") or config field
  // ("manifest") that gave `path`. An empty path (an optional flag left
  // out) is skipped.
  void AddInput(absl::string_view what, const std::string& path);

  // A file another input lists (a store file of a manifest): `listed_by`
  // is how that input was named ("--manifest").
  void AddListedInput(absl::string_view listed_by, const std::string& path);

  // InvalidArgument, naming `what`=`path` and the input, when writing the
  // output `path` (a file or a folder) could replace or destroy an input.
  // An empty path (an optional output left out) passes.
  absl::Status CheckOutput(absl::string_view what,
                           const std::string& path) const;

 private:
  struct Input {
    std::string label;
    std::string path;
  };
  std::vector<Input> inputs_;
};

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_STAGE_FILES_H_
