// Paths given on the command line are relative to where the user typed the
// command. Under `bazel run` the process starts in its runfiles tree, and
// Bazel passes the user's folder in BUILD_WORKING_DIRECTORY.
#ifndef VIT_MOE_DATA_USER_PATH_H_
#define VIT_MOE_DATA_USER_PATH_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vit_moe::data {

inline std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (base == nullptr || *base == '\0') return path;
  return (std::filesystem::path(base) / path).string();
}

// InvalidArgument, naming both flags, when the output `out` (given as
// `out_flag`) is one of `inputs` ({flag, path}) or lies inside one (after
// resolving links): writing it would replace or destroy what the stage
// reads. Checked before any work. Empty input paths are skipped.
inline absl::Status CheckOutputApartFromInputs(
    const std::string& out_flag, const std::string& out,
    const std::vector<std::pair<std::string, std::string>>& inputs) {
  namespace fs = std::filesystem;
  std::error_code error;
  const std::string target = fs::weakly_canonical(out, error).string() + "/";
  for (const auto& [flag, path] : inputs) {
    if (path.empty()) continue;
    const std::string input = fs::weakly_canonical(path, error).string() + "/";
    if (absl::StartsWith(target, input)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", out_flag, "=", out, target == input ? " is " : " lies inside ",
          "--", flag, "=", path,
          ": the output would overwrite the stage's input"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_USER_PATH_H_
