// Archive handling through libarchive: extraction of downloaded zips and
// tarballs that refuses anything able to write outside its target folder,
// and single-stream gzip decompression. No LibTorch.
#ifndef VIT_MOE_DATA_ARCHIVE_EXTRACT_H_
#define VIT_MOE_DATA_ARCHIVE_EXTRACT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vit_moe::data {

struct ExtractLimits {
  // Sum of the sizes of all extracted files, in bytes. The largest real
  // source (GTSRB training images) extracts to ~290 MB.
  int64_t max_total_bytes = int64_t{4} << 30;
  // Entries of any kind (files, folders, links). GTSRB training has ~40k.
  int64_t max_entries = 200000;
};

// InvalidArgument naming max_extract_bytes / max_extract_entries (the
// stages' flags) when a limit is not positive.
absl::Status CheckExtractLimits(const ExtractLimits& limits);

// Extracts `archive_path` (any format/filter libarchive reads) into
// `target_dir`, which is replaced as a whole: entries go to a temporary
// sibling folder that is renamed into place only after the last entry, so a
// refused archive leaves neither a partial target nor anything outside it.
// Refused, with InvalidArgument naming the archive and entry: absolute
// paths, ".." components, symlinks or hard links whose target leaves the
// folder, devices and FIFOs, more than the limits allow.
absl::Status ExtractArchive(const std::string& archive_path,
                            const std::string& target_dir,
                            const ExtractLimits& limits = {});

// Decompresses a single gzip stream (e.g. an IDX .gz file) into memory,
// refusing output larger than `max_bytes`.
absl::StatusOr<std::string> GunzipFile(const std::string& path,
                                       int64_t max_bytes = int64_t{1} << 30);

// True when `relative` (an archive path or a link target joined to its
// entry's folder) stays inside the folder it is relative to.
bool StaysInside(const std::string& relative);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_ARCHIVE_EXTRACT_H_
