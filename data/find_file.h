// Locating files inside an extracted archive whose top folder may differ
// between publishers (GTSRB zips wrap everything in "GTSRB/", CIFAR in
// "cifar-10-batches-bin/").
#ifndef VIT_MOE_DATA_FIND_FILE_H_
#define VIT_MOE_DATA_FIND_FILE_H_

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace vit_moe::data {

// The shallowest folder under `root` (root itself included, at most 3
// levels down, siblings in name order) that holds `relative` (a file or
// folder path). `archive` names the source in the NotFound error.
inline absl::StatusOr<std::string> FindFolderHolding(
    const std::string& root, const std::string& relative,
    const std::string& archive) {
  namespace fs = std::filesystem;
  std::vector<fs::path> level = {fs::path(root)};
  for (int depth = 0; depth <= 3 && !level.empty(); ++depth) {
    std::vector<fs::path> next;
    for (const fs::path& folder : level) {
      if (fs::exists(folder / relative)) return folder.string();
      std::error_code error;
      for (const auto& entry : fs::directory_iterator(folder, error)) {
        if (entry.is_directory() && !entry.is_symlink()) {
          next.push_back(entry.path());
        }
      }
    }
    std::sort(next.begin(), next.end());
    level = std::move(next);
  }
  return absl::NotFoundError(
      absl::StrCat(archive, ": no ", relative, " within three folder levels"));
}

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_FIND_FILE_H_
