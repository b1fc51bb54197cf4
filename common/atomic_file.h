// Crash-safe output files: data goes to a temporary file beside the target,
// is flushed to disk, and is renamed over the target only when complete. A
// reader therefore sees either the old file or the whole new one, never a
// half-written artifact.
#ifndef VIT_MOE_COMMON_ATOMIC_FILE_H_
#define VIT_MOE_COMMON_ATOMIC_FILE_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

// Writes `contents` to `path` atomically; creates missing parent folders.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

// Streaming form for large outputs (packed image stores, checkpoints).
// Destroying it without Commit() deletes the temporary file, so an error
// return on any path leaves nothing behind.
class AtomicFileWriter {
 public:
  static absl::StatusOr<AtomicFileWriter> Open(const std::string& path);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  absl::Status Append(absl::string_view bytes);
  // Flushes, fsyncs and renames onto the target path.
  absl::Status Commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFileWriter(std::string path, std::string temp_path, std::FILE* file)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), file_(file) {}

  std::string path_;
  std::string temp_path_;
  std::FILE* file_;
};

// Reads a whole file; NotFound / DataLoss name the path, InvalidArgument
// a folder given where a file belongs.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// InvalidArgument "PATH is a folder, not a file" for a folder (which reads
// as nothing, so it would pass for an empty file); OK for anything else.
absl::Status RefuseFolder(const std::string& path);

// Creates `dir` and its parents if missing.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_ATOMIC_FILE_H_
