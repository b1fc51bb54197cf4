#include "common/digest.h"

#include <filesystem>

#include "common/atomic_file.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

// Known-answer vectors from FIPS 180-2 and RFC 1321.
TEST(DigestTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(DigestTest, FileDigestsMatchByteDigestsAcrossBufferBoundary) {
  std::string path = testing::TempDir() + "/digest_input.bin";
  // Larger than the 1 MiB read buffer so the streaming path joins chunks.
  std::string data((1 << 20) + 12345, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>(i);
  ASSERT_TRUE(WriteFileAtomically(path, data).ok());
  EXPECT_EQ(*Sha256OfFile(path), Sha256Hex(data));
}

TEST(DigestTest, Md5KnownVectors) {
  std::string path = testing::TempDir() + "/md5_input.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "abc").ok());
  EXPECT_EQ(*Md5OfFile(path), "900150983cd24fb0d6963f7d28e17f72");
  Digester empty(DigestKind::kMd5);
  EXPECT_EQ(empty.FinishHex(), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, MissingFileIsAnError) {
  auto digest = Sha256OfFile("/nonexistent/x");
  EXPECT_EQ(digest.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vit_moe
