// Content digests (OpenSSL EVP) as lowercase hex. SHA-256 identifies every
// artifact and input; MD5 exists only to check sources whose publishers list
// MD5 sums.
#ifndef VIT_MOE_COMMON_DIGEST_H_
#define VIT_MOE_COMMON_DIGEST_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

enum class DigestKind { kSha256, kMd5 };

// Incremental digest for data that arrives in pieces (downloads, streams).
class Digester {
 public:
  explicit Digester(DigestKind kind);
  ~Digester();
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  void Update(absl::string_view bytes);
  // Returns the hex digest; the digester must not be used afterwards.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(absl::string_view bytes);
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);
absl::StatusOr<std::string> Md5OfFile(const std::string& path);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_DIGEST_H_
