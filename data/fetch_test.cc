#include "data/fetch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/digest.h"
#include "data/test_http_server.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestHttpServer;

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    body_.resize(300000);
    for (size_t i = 0; i < body_.size(); ++i) {
      body_[i] = static_cast<char>((i * 2654435761u) >> 13);
    }
    pin_.set_name("blob.bin");
    pin_.set_sha256(Sha256Hex(body_));
    options_.download_dir = (root_ / "downloads").string();
    options_.download.initial_backoff_seconds = 0.01;
    options_.download.show_progress = false;
  }

  fs::path root_;
  std::string body_;
  PinnedFile pin_;
  FetchOptions options_;
};

TEST_F(FetchTest, DownloadsAndVerifies) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_);
  pin_.add_urls(server.UrlFor("/blob.bin"));
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(*ReadFile(fetched->local_path), body_);
  EXPECT_EQ(fetched->size_bytes, static_cast<int64_t>(body_.size()));
  EXPECT_EQ(fetched->location, server.UrlFor("/blob.bin"));
  // A second fetch reuses the verified download without a request.
  int requests = server.requests();
  ASSERT_TRUE(FetchVerified(pin_, options_).ok());
  EXPECT_EQ(server.requests(), requests);
}

TEST_F(FetchTest, ResumesAfterConnectionDroppedHalfway) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_,
                 TestHttpServer::Behavior::kDropFirstHalfway);
  pin_.add_urls(server.UrlFor("/blob.bin"));
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(*ReadFile(fetched->local_path), body_);
  // The retry asked only for the missing second half.
  EXPECT_THAT(server.range_headers(),
              ElementsAre("bytes=" + std::to_string(body_.size() / 2) + "-"));
  EXPECT_EQ(server.requests(), 2);
  EXPECT_FALSE(fs::exists(fetched->local_path + ".partial"));
}

TEST_F(FetchTest, ResumesPartialFileFromEarlierRun) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_);
  pin_.add_urls(server.UrlFor("/blob.bin"));
  fs::create_directories(options_.download_dir);
  ASSERT_TRUE(WriteFileAtomically(options_.download_dir + "/blob.bin.partial",
                                  body_.substr(0, 1000))
                  .ok());
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(*ReadFile(fetched->local_path), body_);
  EXPECT_THAT(server.range_headers(), ElementsAre("bytes=1000-"));
}

TEST_F(FetchTest, RestartsWhenServerIgnoresRange) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_, TestHttpServer::Behavior::kIgnoreRange);
  pin_.add_urls(server.UrlFor("/blob.bin"));
  fs::create_directories(options_.download_dir);
  ASSERT_TRUE(WriteFileAtomically(options_.download_dir + "/blob.bin.partial",
                                  "stale bytes of another file")
                  .ok());
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(*ReadFile(fetched->local_path), body_);
  EXPECT_EQ(server.range_headers().size(), 1u);
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(FetchTest, WrongBytesFailWithDigestErrorAndLeaveNothing) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_, TestHttpServer::Behavior::kCorrupt);
  pin_.add_urls(server.UrlFor("/blob.bin"));
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), absl::StatusCode::kDataLoss);
  std::string corrupt = body_;
  for (char& c : corrupt) c = static_cast<char>(~c);
  EXPECT_THAT(fetched.status().message(),
              HasSubstr("blob.bin (" + server.UrlFor("/blob.bin") +
                        "): SHA-256 mismatch: expected " + pin_.sha256() +
                        ", actual " + Sha256Hex(corrupt)));
  EXPECT_TRUE(fs::is_empty(options_.download_dir));
}

TEST_F(FetchTest, MissingFileIsNotRetriedAndNextUrlIsTried) {
  TestHttpServer server;
  server.AddFile("/blob.bin", body_);
  pin_.add_urls(server.UrlFor("/gone.bin"));
  pin_.add_urls(server.UrlFor("/blob.bin"));
  auto fetched = FetchVerified(pin_, options_);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->location, server.UrlFor("/blob.bin"));
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(FetchTest, GivesUpAfterRetriesWithLastError) {
  TestHttpServer server;
  pin_.add_urls(server.UrlFor("/gone.bin"));
  options_.download.max_attempts = 2;
  auto fetched = FetchVerified(pin_, options_);
  EXPECT_THAT(fetched.status().message(), HasSubstr("404"));
}

TEST_F(FetchTest, LocalPathFileUrlMirrorAndOverride) {
  const std::string local = (root_ / "blob.bin").string();
  ASSERT_TRUE(WriteFileAtomically(local, body_).ok());
  pin_.set_md5(*Md5OfFile(local));
  pin_.add_urls("file://" + local);
  auto by_url = FetchVerified(pin_, options_);
  ASSERT_TRUE(by_url.ok()) << by_url.status();
  EXPECT_EQ(by_url->local_path, local);
  EXPECT_EQ(by_url->md5, pin_.md5());

  FetchOptions mirror = options_;
  mirror.mirror_dir = root_.string();
  pin_.set_urls(0, "http://127.0.0.1:1/unreachable");
  auto by_mirror = FetchVerified(pin_, mirror);
  ASSERT_TRUE(by_mirror.ok()) << by_mirror.status();
  EXPECT_EQ(by_mirror->local_path, local);

  FetchOptions override_options = options_;
  override_options.locations["blob.bin"] = local;
  ASSERT_TRUE(FetchVerified(pin_, override_options).ok());

  pin_.set_md5("0123456789abcdef0123456789abcdef");
  pin_.clear_sha256();
  EXPECT_THAT(FetchVerified(pin_, override_options).status().message(),
              HasSubstr("MD5 mismatch: expected 0123456789abcdef"));
  pin_.clear_md5();
  EXPECT_THAT(FetchVerified(pin_, override_options).status().message(),
              HasSubstr("no digest"));
}

}  // namespace
}  // namespace vit_moe::data
