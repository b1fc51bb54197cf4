// Paths given on the command line are relative to where the user typed the
// command. Under `bazel run` the process starts in its runfiles tree, and
// Bazel passes the user's folder in BUILD_WORKING_DIRECTORY.
#ifndef VIT_MOE_DATA_USER_PATH_H_
#define VIT_MOE_DATA_USER_PATH_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace vit_moe::data {

inline std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  const char* base = std::getenv("BUILD_WORKING_DIRECTORY");
  if (base == nullptr || *base == '\0') return path;
  return (std::filesystem::path(base) / path).string();
}

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_USER_PATH_H_
