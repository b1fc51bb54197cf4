#include "data/test_archives.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace vit_moe::data::testing {
namespace {

struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
using Writer = std::unique_ptr<archive, WriteCloser>;

absl::Status WriterError(archive* a, absl::string_view what) {
  const char* message = archive_error_string(a);
  return absl::InternalError(
      absl::StrCat(what, ": ", message ? message : "libarchive error"));
}

}  // namespace

absl::Status WriteArchive(const std::string& path, ArchiveFormat format,
                          const std::vector<ArchiveEntry>& entries) {
  Writer writer(archive_write_new());
  if (format == ArchiveFormat::kZip) {
    archive_write_set_format_zip(writer.get());
  } else {
    archive_write_set_format_pax_restricted(writer.get());
    archive_write_add_filter_gzip(writer.get());
  }
  if (archive_write_open_filename(writer.get(), path.c_str()) != ARCHIVE_OK) {
    return WriterError(writer.get(), path);
  }
  for (const ArchiveEntry& item : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(
        archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), item.path.c_str());
    archive_entry_set_mtime(entry.get(), 1262304000, 0);  // fixed: 2010-01-01
    switch (item.kind) {
      case ArchiveEntry::Kind::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_size(entry.get(), item.contents.size());
        break;
      case ArchiveEntry::Kind::kFolder:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        archive_entry_set_perm(entry.get(), 0755);
        break;
      case ArchiveEntry::Kind::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_perm(entry.get(), 0777);
        archive_entry_set_symlink(entry.get(), item.link_target.c_str());
        break;
      case ArchiveEntry::Kind::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_perm(entry.get(), 0644);
        archive_entry_set_hardlink(entry.get(), item.link_target.c_str());
        break;
    }
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      return WriterError(writer.get(), item.path);
    }
    if (item.kind == ArchiveEntry::Kind::kFile && !item.contents.empty() &&
        archive_write_data(writer.get(), item.contents.data(),
                           item.contents.size()) < 0) {
      return WriterError(writer.get(), item.path);
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return WriterError(writer.get(), path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Gzip(const std::string& contents) {
  Writer writer(archive_write_new());
  archive_write_set_format_raw(writer.get());
  archive_write_add_filter_gzip(writer.get());
  // Large enough for any fixture; libarchive reports the bytes used.
  std::string out(contents.size() + (1 << 16), '\0');
  size_t used = 0;
  if (archive_write_open_memory(writer.get(), out.data(), out.size(), &used) !=
      ARCHIVE_OK) {
    return WriterError(writer.get(), "gzip");
  }
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(
      archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), "data");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_size(entry.get(), contents.size());
  if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK ||
      archive_write_data(writer.get(), contents.data(), contents.size()) < 0 ||
      archive_write_close(writer.get()) != ARCHIVE_OK) {
    return WriterError(writer.get(), "gzip");
  }
  out.resize(used);
  return out;
}

}  // namespace vit_moe::data::testing
