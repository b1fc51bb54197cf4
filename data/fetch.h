// Obtaining pinned source files: from a URL (http, https, file), a local
// path or a mirror folder, verified against the pinned digests before
// anything uses them. HTTP goes through libcurl with timeouts, retries with
// exponential back-off and Range resume of a partial download. No LibTorch.
#ifndef VIT_MOE_DATA_FETCH_H_
#define VIT_MOE_DATA_FETCH_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/source_manifest.pb.h"

namespace vit_moe::data {

struct DownloadOptions {
  int max_attempts = 5;
  // Wait before the second attempt; doubles after each failed attempt.
  double initial_backoff_seconds = 2.0;
  int64_t connect_timeout_seconds = 30;
  // An attempt is abandoned when it moves under 1 byte/s for this long.
  int64_t stall_timeout_seconds = 60;
  // Progress line (bytes/s, ETA) on stderr; only drawn when it is a terminal.
  bool show_progress = true;
};

// Downloads `url` to `destination`, keeping the bytes in `destination +
// ".partial"` until complete, so an interrupted attempt (this one or an
// earlier run) resumes with a Range request. HTTP 4xx other than 408/429 is
// not retried.
absl::Status DownloadUrl(const std::string& url, const std::string& destination,
                         const DownloadOptions& options);

struct FetchOptions {
  // Where http(s) downloads are kept between runs.
  std::string download_dir;
  // If set, every file is read from here by its pinned name, not its URLs.
  std::string mirror_dir;
  // Per-file location overrides (pinned name -> URL or path).
  std::map<std::string, std::string> locations;
  DownloadOptions download;
};

struct FetchedFile {
  std::string local_path;  // where the verified bytes are
  std::string location;    // URL or path they came from
  std::string sha256;
  std::string md5;
  int64_t size_bytes = 0;
};

// A pinned file together with where its verified bytes are; converters look
// sources up by pinned name.
struct VerifiedSource {
  PinnedFile pin;
  FetchedFile file;
};
using VerifiedSources = std::map<std::string, VerifiedSource>;

// Fetches one pinned file and verifies it. A digest mismatch returns
// DataLoss("NAME (LOCATION): SHA-256 mismatch: expected X, actual Y"); a
// mismatching download is deleted so it is never used or resumed.
absl::StatusOr<FetchedFile> FetchVerified(const PinnedFile& file,
                                          const FetchOptions& options);

// Digests of a local file checked against the pin; on success returns them.
absl::StatusOr<FetchedFile> VerifyLocalFile(const PinnedFile& file,
                                            const std::string& path,
                                            const std::string& location);

// Checks `digest` (lowercase hex) against `expected`; empty `expected`
// passes. `what` names the file in the error.
absl::Status CheckDigest(const std::string& what, absl::string_view kind,
                         const std::string& expected,
                         const std::string& actual);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_FETCH_H_
