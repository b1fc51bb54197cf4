#include "data/fetch.h"

#include <curl/curl.h>
#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/status_macros.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool IsHttp(const std::string& location) {
  return absl::StartsWith(location, "http://") ||
         absl::StartsWith(location, "https://");
}

std::string LocalPathOf(const std::string& location) {
  constexpr absl::string_view kFile = "file://";
  if (absl::StartsWith(location, kFile)) {
    return location.substr(kFile.size());
  }
  return location;
}

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", bytes, units[unit]);
}

// State of one transfer attempt, shared with libcurl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  std::FILE* file = nullptr;
  int64_t resume_from = 0;
  bool show_progress = false;
  std::string label;
  Clock::time_point start;
  Clock::time_point last_draw;
  bool drew_progress = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  return std::fwrite(data, size, count, transfer->file) * size;
}

int DrawProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t,
                 curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->show_progress) return 0;
  Clock::time_point t = Clock::now();
  if (t - transfer->last_draw < std::chrono::milliseconds(250)) return 0;
  transfer->last_draw = t;
  double seconds = std::chrono::duration<double>(t - transfer->start).count();
  double rate = seconds > 0 ? now / seconds : 0;
  std::string line = absl::StrCat(
      "\r", transfer->label, ": ",
      HumanBytes(static_cast<double>(transfer->resume_from + now)));
  if (total > 0) {
    absl::StrAppend(
        &line, " / ",
        HumanBytes(static_cast<double>(transfer->resume_from + total)));
  }
  absl::StrAppend(&line, "  ", HumanBytes(rate), "/s");
  if (total > 0 && rate > 0) {
    absl::StrAppend(&line, "  ETA ",
                    static_cast<int64_t>(std::ceil((total - now) / rate)),
                    " s");
  }
  std::fprintf(stderr, "%s\033[K", line.c_str());
  transfer->drew_progress = true;
  return 0;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int64_t FileSizeOrZero(const std::string& path) {
  std::error_code error;
  auto size = fs::file_size(path, error);
  return error ? 0 : static_cast<int64_t>(size);
}

bool IsPermanentHttpError(long code) {
  return code >= 400 && code < 500 && code != 408 && code != 429;
}

}  // namespace

absl::Status DownloadUrl(const std::string& url, const std::string& destination,
                         const DownloadOptions& options) {
  InitCurlOnce();
  RETURN_IF_ERROR(
      MakeDirectories(fs::path(destination).parent_path().string()));
  const std::string partial = destination + ".partial";
  std::string last_error;
  double backoff = options.initial_backoff_seconds;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    if (attempt > 1) {
      LOG(WARNING) << url << ": attempt " << attempt - 1 << " failed ("
                   << last_error << "); retrying in " << backoff << " s";
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
      backoff *= 2;
    }
    Transfer transfer;
    transfer.resume_from = FileSizeOrZero(partial);
    transfer.file = std::fopen(partial.c_str(), "ab");
    if (transfer.file == nullptr) {
      return absl::UnavailableError(
          absl::StrCat(partial, ": cannot open for writing"));
    }
    transfer.curl = curl_easy_init();
    transfer.show_progress = options.show_progress && isatty(STDERR_FILENO);
    transfer.label = fs::path(destination).filename().string();
    transfer.start = transfer.last_draw = Clock::now();
    char error_buffer[CURL_ERROR_SIZE] = {0};
    CURL* curl = transfer.curl;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(options.connect_timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options.stall_timeout_seconds));
    curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE,
                     static_cast<curl_off_t>(transfer.resume_from));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, DrawProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
    CURLcode result = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    bool closed = std::fclose(transfer.file) == 0;
    if (transfer.drew_progress) std::fprintf(stderr, "\n");
    // 416 on a resume means the partial file already holds every byte.
    bool complete = (result == CURLE_OK && closed) ||
                    (code == 416 && transfer.resume_from > 0);
    if (complete) {
      const double seconds =
          std::chrono::duration<double>(Clock::now() - transfer.start).count();
      const int64_t bytes = FileSizeOrZero(partial);
      LOG(INFO) << url << ": " << HumanBytes(static_cast<double>(bytes))
                << " in " << absl::StrFormat("%.1f", seconds) << " s ("
                << HumanBytes((bytes - transfer.resume_from) /
                              std::max(seconds, 1e-3))
                << "/s)";
      std::error_code error;
      fs::rename(partial, destination, error);
      if (error) {
        return absl::UnavailableError(absl::StrCat(
            destination,
            ": cannot move download into place: ", error.message()));
      }
      return absl::OkStatus();
    }
    last_error = error_buffer[0] ? error_buffer : curl_easy_strerror(result);
    if (code > 0) absl::StrAppend(&last_error, " (HTTP ", code, ")");
    if (result == CURLE_RANGE_ERROR) {
      // The server ignores Range; libcurl refuses to append its whole-file
      // answer to the partial bytes, so the next attempt starts over.
      std::error_code ignored;
      fs::remove(partial, ignored);
      absl::StrAppend(&last_error, "; restarting from byte 0");
    }
    if (result == CURLE_HTTP_RETURNED_ERROR && IsPermanentHttpError(code)) {
      return absl::NotFoundError(absl::StrCat(url, ": ", last_error));
    }
  }
  return absl::UnavailableError(absl::StrCat(url, ": download failed after ",
                                             options.max_attempts,
                                             " attempts: ", last_error));
}

absl::Status CheckDigest(const std::string& what, absl::string_view kind,
                         const std::string& expected,
                         const std::string& actual) {
  if (expected.empty() || expected == actual) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      what, ": ", kind, " mismatch: expected ", expected, ", actual ", actual));
}

absl::StatusOr<FetchedFile> VerifyLocalFile(const PinnedFile& file,
                                            const std::string& path,
                                            const std::string& location) {
  if (file.sha256().empty() && file.md5().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        file.name(), ": the pinned source manifest has no digest for it"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  Digester sha256(DigestKind::kSha256);
  Digester md5(DigestKind::kMd5);
  std::vector<char> buffer(1 << 20);
  int64_t size = 0;
  while (in) {
    in.read(buffer.data(), buffer.size());
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    absl::string_view chunk(buffer.data(), static_cast<size_t>(n));
    sha256.Update(chunk);
    md5.Update(chunk);
    size += n;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  FetchedFile fetched;
  fetched.local_path = path;
  fetched.location = location;
  fetched.sha256 = sha256.FinishHex();
  fetched.md5 = md5.FinishHex();
  fetched.size_bytes = size;
  const std::string what = absl::StrCat(file.name(), " (", location, ")");
  RETURN_IF_ERROR(CheckDigest(what, "SHA-256", file.sha256(), fetched.sha256));
  RETURN_IF_ERROR(CheckDigest(what, "MD5", file.md5(), fetched.md5));
  if (file.sha256().empty()) {
    LOG(WARNING) << file.name() << ": verified by MD5 only; pin its SHA-256 "
                 << fetched.sha256 << " in data/sources.textproto";
  }
  return fetched;
}

absl::StatusOr<FetchedFile> FetchVerified(const PinnedFile& file,
                                          const FetchOptions& options) {
  std::vector<std::string> candidates;
  auto override_it = options.locations.find(file.name());
  if (override_it != options.locations.end()) {
    candidates.push_back(override_it->second);
  } else if (!options.mirror_dir.empty()) {
    candidates.push_back((fs::path(options.mirror_dir) / file.name()).string());
  } else {
    candidates.assign(file.urls().begin(), file.urls().end());
  }
  if (candidates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.name(), ": no location to fetch it from"));
  }
  std::vector<std::string> failures;
  for (const std::string& location : candidates) {
    if (!IsHttp(location)) {
      std::string path = LocalPathOf(location);
      if (!fs::exists(path)) {
        failures.push_back(absl::StrCat(path, ": no such file"));
        continue;
      }
      return VerifyLocalFile(file, path, location);
    }
    if (options.download_dir.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.name(), ": no download folder for ", location));
    }
    const std::string destination =
        (fs::path(options.download_dir) / file.name()).string();
    if (fs::exists(destination)) {
      auto cached = VerifyLocalFile(file, destination, location);
      if (cached.ok()) return cached;
      LOG(WARNING) << "discarding cached " << destination << ": "
                   << cached.status().message();
      fs::remove(destination);
    }
    absl::Status downloaded =
        DownloadUrl(location, destination, options.download);
    if (!downloaded.ok()) {
      failures.push_back(std::string(downloaded.message()));
      continue;
    }
    auto verified = VerifyLocalFile(file, destination, location);
    if (!verified.ok()) fs::remove(destination);
    return verified;
  }
  return absl::UnavailableError(absl::StrCat(
      file.name(), ": every location failed: ", absl::StrJoin(failures, "; ")));
}

}  // namespace vit_moe::data
