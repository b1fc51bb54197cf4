#include "data/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ReadCloser>;
using ArchiveWriter = std::unique_ptr<archive, WriteCloser>;

absl::Status ArchiveError(const std::string& path, archive* a) {
  const char* message = archive_error_string(a);
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", message ? message : "unreadable archive"));
}

absl::Status Refuse(const std::string& archive_path, const std::string& entry,
                    absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(archive_path, ": refusing entry \"", entry, "\": ", why));
}

// Lexical checks on one entry; libarchive's own SECURE_* flags run as a
// second line of defence, but their messages don't say which rule fired.
absl::Status CheckEntry(const std::string& archive_path, archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  std::string path = raw ? raw : "";
  if (path.empty()) return Refuse(archive_path, path, "empty path");
  if (path[0] == '/') return Refuse(archive_path, path, "absolute path");
  if (!StaysInside(path)) {
    return Refuse(archive_path, path, "path leaves the target folder");
  }
  mode_t type = archive_entry_filetype(entry);
  if (const char* hardlink = archive_entry_hardlink(entry)) {
    std::string target = hardlink;
    if (target.empty() || target[0] == '/' || !StaysInside(target)) {
      return Refuse(archive_path, path,
                    absl::StrCat("hard link to \"", target,
                                 "\" leaves the target folder"));
    }
    return absl::OkStatus();
  }
  if (type == AE_IFLNK) {
    const char* symlink = archive_entry_symlink(entry);
    std::string target = symlink ? symlink : "";
    std::string parent = fs::path(path).parent_path().string();
    if (target.empty() || target[0] == '/' ||
        !StaysInside(parent.empty() ? target : parent + "/" + target)) {
      return Refuse(archive_path, path,
                    absl::StrCat("symlink to \"", target,
                                 "\" points outside the target folder"));
    }
    return absl::OkStatus();
  }
  if (type != AE_IFREG && type != AE_IFDIR) {
    return Refuse(archive_path, path, "not a file, folder or link");
  }
  return absl::OkStatus();
}

absl::Status CopyEntryData(const std::string& archive_path,
                           const std::string& entry_path, archive* reader,
                           archive* writer, int64_t& total_bytes,
                           int64_t max_total_bytes) {
  const void* block;
  size_t size;
  la_int64_t offset;
  while (true) {
    int r = archive_read_data_block(reader, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r != ARCHIVE_OK) return ArchiveError(archive_path, reader);
    // Counts bytes actually produced: a header may understate its size.
    total_bytes += static_cast<int64_t>(size);
    if (total_bytes > max_total_bytes) {
      return Refuse(archive_path, entry_path,
                    absl::StrCat("extracted size exceeds the cap of ",
                                 max_total_bytes, " bytes"));
    }
    if (archive_write_data_block(writer, block, size, offset) != ARCHIVE_OK) {
      return ArchiveError(archive_path, writer);
    }
  }
}

absl::Status ExtractInto(const std::string& archive_path,
                         const std::string& staging,
                         const ExtractLimits& limits) {
  ArchiveReader reader(archive_read_new());
  archive_read_support_format_all(reader.get());
  archive_read_support_filter_all(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 1 << 16) !=
      ARCHIVE_OK) {
    return ArchiveError(archive_path, reader.get());
  }
  ArchiveWriter writer(archive_write_disk_new());
  // Entries are rewritten to absolute paths under the staging folder, so
  // libarchive's NOABSOLUTEPATHS cannot apply; CheckEntry has refused
  // absolute entry names already.
  archive_write_disk_set_options(
      writer.get(),
      ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  int64_t entries = 0;
  int64_t total_bytes = 0;
  archive_entry* entry;
  while (true) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return ArchiveError(archive_path, reader.get());
    std::string path = archive_entry_pathname(entry);
    if (++entries > limits.max_entries) {
      return Refuse(archive_path, path,
                    absl::StrCat("more than ", limits.max_entries, " entries"));
    }
    RETURN_IF_ERROR(CheckEntry(archive_path, entry));
    if (archive_entry_size_is_set(entry) &&
        total_bytes + archive_entry_size(entry) > limits.max_total_bytes) {
      return Refuse(archive_path, path,
                    absl::StrCat("extracted size exceeds the cap of ",
                                 limits.max_total_bytes, " bytes"));
    }
    archive_entry_copy_pathname(entry, (staging + "/" + path).c_str());
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      archive_entry_copy_hardlink(
          entry, (staging + "/" + std::string(hardlink)).c_str());
    }
    // Permissions from the archive are not trusted: plain files and folders.
    archive_entry_set_perm(
        entry, archive_entry_filetype(entry) == AE_IFDIR ? 0755 : 0644);
    if (archive_write_header(writer.get(), entry) != ARCHIVE_OK) {
      return ArchiveError(archive_path, writer.get());
    }
    if (archive_entry_filetype(entry) == AE_IFREG) {
      RETURN_IF_ERROR(CopyEntryData(archive_path, path, reader.get(),
                                    writer.get(), total_bytes,
                                    limits.max_total_bytes));
    }
    if (archive_write_finish_entry(writer.get()) != ARCHIVE_OK) {
      return ArchiveError(archive_path, writer.get());
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return ArchiveError(archive_path, writer.get());
  }
  return absl::OkStatus();
}

}  // namespace

bool StaysInside(const std::string& relative) {
  int depth = 0;
  for (absl::string_view part : absl::StrSplit(relative, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (--depth < 0) return false;
    } else {
      ++depth;
    }
  }
  return true;
}

absl::Status ExtractArchive(const std::string& archive_path,
                            const std::string& target_dir,
                            const ExtractLimits& limits) {
  fs::path target = fs::absolute(target_dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code error;
  fs::create_directories(target.parent_path(), error);
  std::string staging_template = target.string() + ".tmp.XXXXXX";
  if (mkdtemp(staging_template.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat(target.string(), ": cannot create a staging folder"));
  }
  const std::string staging = staging_template;
  absl::Status status = ExtractInto(archive_path, staging, limits);
  if (status.ok()) {
    fs::remove_all(target, error);
    fs::rename(staging, target, error);
    if (error) {
      status = absl::UnavailableError(absl::StrCat(
          target.string(),
          ": cannot move extracted files into place: ", error.message()));
    }
  }
  if (!status.ok()) fs::remove_all(staging, error);
  return status;
}

absl::StatusOr<std::string> GunzipFile(const std::string& path,
                                       int64_t max_bytes) {
  ArchiveReader reader(archive_read_new());
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) !=
      ARCHIVE_OK) {
    return ArchiveError(path, reader.get());
  }
  archive_entry* entry;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    return ArchiveError(path, reader.get());
  }
  if (archive_filter_code(reader.get(), 0) != ARCHIVE_FILTER_GZIP) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a gzip file"));
  }
  std::string out;
  std::vector<char> buffer(1 << 16);
  while (true) {
    la_ssize_t n =
        archive_read_data(reader.get(), buffer.data(), buffer.size());
    if (n < 0) return ArchiveError(path, reader.get());
    if (n == 0) break;
    if (static_cast<int64_t>(out.size()) + n > max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": decompresses to more than ", max_bytes, " bytes"));
    }
    out.append(buffer.data(), static_cast<size_t>(n));
  }
  return out;
}

absl::Status CheckExtractLimits(const ExtractLimits& limits) {
  if (limits.max_total_bytes < 1 || limits.max_entries < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_extract_bytes and max_extract_entries must be positive (got ",
        limits.max_total_bytes, " and ", limits.max_entries, ")"));
  }
  return absl::OkStatus();
}

}  // namespace vit_moe::data
