#include "common/digest.h"

#include <glog/logging.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"

namespace vit_moe {

struct Digester::State {
  EVP_MD_CTX* context = nullptr;
};

Digester::Digester(DigestKind kind) : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  CHECK(state_->context != nullptr);
  const EVP_MD* md = kind == DigestKind::kSha256 ? EVP_sha256() : EVP_md5();
  CHECK_EQ(EVP_DigestInit_ex(state_->context, md, nullptr), 1);
}

Digester::~Digester() { EVP_MD_CTX_free(state_->context); }

void Digester::Update(absl::string_view bytes) {
  CHECK_EQ(EVP_DigestUpdate(state_->context, bytes.data(), bytes.size()), 1);
}

std::string Digester::FinishHex() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CHECK_EQ(EVP_DigestFinal_ex(state_->context, raw, &length), 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[raw[i] >> 4];
    hex[2 * i + 1] = kHex[raw[i] & 15];
  }
  return hex;
}

std::string Sha256Hex(absl::string_view bytes) {
  Digester digester(DigestKind::kSha256);
  digester.Update(bytes);
  return digester.FinishHex();
}

namespace {

absl::StatusOr<std::string> DigestOfFile(const std::string& path,
                                         DigestKind kind) {
  RETURN_IF_ERROR(RefuseFolder(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot open for reading: ", std::strerror(errno)));
  }
  Digester digester(kind);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), buffer.size());
    digester.Update(absl::string_view(buffer.data(), in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return digester.FinishHex();
}

}  // namespace

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  return DigestOfFile(path, DigestKind::kSha256);
}

absl::StatusOr<std::string> Md5OfFile(const std::string& path) {
  return DigestOfFile(path, DigestKind::kMd5);
}

}  // namespace vit_moe
