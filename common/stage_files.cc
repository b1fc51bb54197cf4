#include "common/stage_files.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace vit_moe {
namespace {

namespace fs = std::filesystem;

struct FileId {
  dev_t device;
  ino_t inode;
  bool operator==(const FileId& other) const {
    return device == other.device && inode == other.inode;
  }
};

// The file `path` names now, links followed; none when it does not exist.
std::optional<FileId> IdOf(const fs::path& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return std::nullopt;
  return FileId{info.st_dev, info.st_ino};
}

// Links and `..` resolved as far as the path exists.
fs::path Canonical(const std::string& path) {
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(fs::absolute(path, error), error);
  return error ? fs::absolute(path).lexically_normal() : canonical;
}

// True when `inner` is `outer` or lies inside it. By identity where
// `outer` exists: `inner` or one of its real ancestors is that very file;
// by canonical path where it does not.
bool Contains(const std::string& outer, const std::string& inner) {
  const fs::path inner_path = Canonical(inner);
  if (std::optional<FileId> outer_id = IdOf(outer)) {
    for (fs::path p = inner_path;; p = p.parent_path()) {
      if (std::optional<FileId> id = IdOf(p); id && *id == *outer_id) {
        return true;
      }
      if (p == p.parent_path()) return false;
    }
  }
  const std::string prefix = Canonical(outer).string() + "/";
  return absl::StartsWith(inner_path.string() + "/", prefix);
}

}  // namespace

void StageFiles::AddInput(absl::string_view what, const std::string& path) {
  if (path.empty()) return;
  inputs_.push_back({absl::StrCat(what, "=", path), path});
}

void StageFiles::AddListedInput(absl::string_view listed_by,
                                const std::string& path) {
  if (path.empty()) return;
  inputs_.push_back({absl::StrCat(path, " (listed by ", listed_by, ")"), path});
}

absl::Status StageFiles::CheckOutput(absl::string_view what,
                                     const std::string& path) const {
  if (path.empty()) return absl::OkStatus();
  for (const Input& input : inputs_) {
    const char* relation = nullptr;
    if (Contains(input.path, path)) {
      relation = Contains(path, input.path) ? " is " : " lies inside ";
    } else if (Contains(path, input.path)) {
      relation = " holds ";
    }
    if (relation != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "=", path, relation, input.label,
                       ": the output would overwrite the stage's input"));
    }
  }
  return absl::OkStatus();
}

}  // namespace vit_moe
