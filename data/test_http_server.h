// Test-only HTTP/1.1 server on 127.0.0.1 (ephemeral port), one connection
// at a time on a background thread. It serves registered bodies with Range
// support and can misbehave on purpose: drop the connection half-way through
// the first response, or serve corrupted bytes.
#ifndef VIT_MOE_DATA_TEST_HTTP_SERVER_H_
#define VIT_MOE_DATA_TEST_HTTP_SERVER_H_

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vit_moe::data::testing {

class TestHttpServer {
 public:
  enum class Behavior {
    kServe,             // the body (206 + Content-Range for "bytes=N-")
    kDropFirstHalfway,  // first request: full Content-Length, half the
                        // body, then close; later requests: kServe
    kCorrupt,           // the body with every byte inverted
    kIgnoreRange,       // always 200 with the whole body
  };

  TestHttpServer();
  ~TestHttpServer();

  void AddFile(const std::string& url_path, std::string body,
               Behavior behavior = Behavior::kServe);
  std::string UrlFor(const std::string& url_path) const;

  // Range headers received so far ("bytes=N-"), in order.
  std::vector<std::string> range_headers() const;
  int requests() const { return requests_; }

 private:
  struct File {
    std::string body;
    Behavior behavior;
    bool dropped_once = false;
  };
  void Serve();
  void HandleConnection(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::map<std::string, File> files_;
  std::vector<std::string> range_headers_;
  std::thread thread_;
};

}  // namespace vit_moe::data::testing

#endif  // VIT_MOE_DATA_TEST_HTTP_SERVER_H_
