#include "data/test_http_server.h"

#include <arpa/inet.h>
#include <glog/logging.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace vit_moe::data::testing {
namespace {

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

TestHttpServer::TestHttpServer() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_GE(listen_fd_, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  CHECK_EQ(
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  CHECK_EQ(listen(listen_fd_, 8), 0);
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread(&TestHttpServer::Serve, this);
}

TestHttpServer::~TestHttpServer() {
  stopping_ = true;
  thread_.join();
  close(listen_fd_);
}

void TestHttpServer::AddFile(const std::string& url_path, std::string body,
                             Behavior behavior) {
  std::lock_guard<std::mutex> lock(mutex_);
  files_[url_path] = File{std::move(body), behavior};
}

std::string TestHttpServer::UrlFor(const std::string& url_path) const {
  return absl::StrCat("http://127.0.0.1:", port_, url_path);
}

std::vector<std::string> TestHttpServer::range_headers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return range_headers_;
}

void TestHttpServer::Serve() {
  while (!stopping_) {
    pollfd waiting{listen_fd_, POLLIN, 0};
    if (poll(&waiting, 1, 50) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    HandleConnection(fd);
    close(fd);
  }
}

void TestHttpServer::HandleConnection(int fd) {
  std::string request;
  char buffer[4096];
  while (!absl::StrContains(request, "\r\n\r\n")) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  ++requests_;
  std::vector<std::string> lines =
      absl::StrSplit(request.substr(0, request.find("\r\n\r\n")), "\r\n");
  std::vector<std::string> request_line = absl::StrSplit(lines[0], ' ');
  std::string path = request_line.size() > 1 ? request_line[1] : "";
  int64_t range_start = -1;
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (absl::StartsWithIgnoreCase(line, "range:")) {
      absl::string_view value = absl::StripAsciiWhitespace(line.substr(6));
      std::lock_guard<std::mutex> lock(mutex_);
      range_headers_.emplace_back(value);
      if (absl::ConsumePrefix(&value, "bytes=") &&
          absl::ConsumeSuffix(&value, "-")) {
        absl::SimpleAtoi(value, &range_start);
      }
    }
  }
  std::string body;
  Behavior behavior;
  bool drop = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      SendAll(fd,
              "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
      return;
    }
    body = it->second.body;
    behavior = it->second.behavior;
    if (behavior == Behavior::kDropFirstHalfway && !it->second.dropped_once) {
      it->second.dropped_once = true;
      drop = true;
    }
  }
  if (behavior == Behavior::kCorrupt) {
    for (char& c : body) c = static_cast<char>(~c);
  }
  if (behavior == Behavior::kIgnoreRange) range_start = -1;
  const int64_t size = static_cast<int64_t>(body.size());
  std::string header;
  std::string payload;
  if (range_start >= size) {
    header = absl::StrCat("HTTP/1.1 416 Range Not Satisfiable\r\n",
                          "Content-Range: bytes */", size, "\r\n",
                          "Content-Length: 0\r\n");
  } else if (range_start >= 0) {
    payload = body.substr(static_cast<size_t>(range_start));
    header =
        absl::StrCat("HTTP/1.1 206 Partial Content\r\n",
                     "Content-Range: bytes ", range_start, "-", size - 1, "/",
                     size, "\r\n", "Content-Length: ", payload.size(), "\r\n");
  } else {
    payload = body;
    header = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", size, "\r\n");
  }
  absl::StrAppend(&header, "Accept-Ranges: bytes\r\nConnection: close\r\n\r\n");
  if (drop) payload.resize(payload.size() / 2);
  SendAll(fd, header + payload);
}

}  // namespace vit_moe::data::testing
