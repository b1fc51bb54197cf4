// Test-only: building zip, tar.gz and .gz files in the layouts the real
// sources use (and hostile ones), through libarchive's writer.
#ifndef VIT_MOE_DATA_TEST_ARCHIVES_H_
#define VIT_MOE_DATA_TEST_ARCHIVES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vit_moe::data::testing {

struct ArchiveEntry {
  enum class Kind { kFile, kFolder, kSymlink, kHardlink };
  std::string path;
  std::string contents;  // kFile
  Kind kind = Kind::kFile;
  std::string link_target;  // kSymlink, kHardlink
};

enum class ArchiveFormat { kZip, kTarGz };

absl::Status WriteArchive(const std::string& path, ArchiveFormat format,
                          const std::vector<ArchiveEntry>& entries);

// gzip-compresses `contents` (a single stream, like the IDX .gz files).
absl::StatusOr<std::string> Gzip(const std::string& contents);

}  // namespace vit_moe::data::testing

#endif  // VIT_MOE_DATA_TEST_ARCHIVES_H_
