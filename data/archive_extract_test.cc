#include "data/archive_extract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "data/test_archives.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using testing::ArchiveEntry;
using testing::ArchiveFormat;
using ::testing::HasSubstr;
using testing::WriteArchive;

class ArchiveExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ / "inbox");
  }

  // Everything under root_ except the archives in inbox/.
  std::vector<std::string> FilesOutsideInbox() const {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      std::string relative = fs::relative(entry.path(), root_).string();
      if (relative.rfind("inbox", 0) != 0) found.push_back(relative);
    }
    return found;
  }

  std::string Archive(const std::string& name, ArchiveFormat format,
                      const std::vector<ArchiveEntry>& entries) {
    std::string path = (root_ / "inbox" / name).string();
    EXPECT_TRUE(WriteArchive(path, format, entries).ok());
    return path;
  }

  fs::path root_;
};

TEST_F(ArchiveExtractTest, ExtractsFilesFoldersAndInsideLinks) {
  std::string zip =
      Archive("ok.tar.gz", ArchiveFormat::kTarGz,
              {{"top/", "", ArchiveEntry::Kind::kFolder},
               {"top/a.txt", "alpha"},
               {"top/sub/b.txt", "beta"},
               {"top/link", "", ArchiveEntry::Kind::kSymlink, "sub/b.txt"}});
  const std::string target = (root_ / "out").string();
  ASSERT_TRUE(ExtractArchive(zip, target).ok());
  EXPECT_EQ(*ReadFile(target + "/top/a.txt"), "alpha");
  EXPECT_EQ(*ReadFile(target + "/top/sub/b.txt"), "beta");
  EXPECT_EQ(fs::read_symlink(target + "/top/link"), "sub/b.txt");
  // A second extraction replaces the folder as a whole.
  std::string other =
      Archive("other.zip", ArchiveFormat::kZip, {{"c.txt", "gamma"}});
  ASSERT_TRUE(ExtractArchive(other, target).ok());
  EXPECT_FALSE(fs::exists(target + "/top"));
  EXPECT_EQ(*ReadFile(target + "/c.txt"), "gamma");
}

struct HostileCase {
  std::string name;
  ArchiveFormat format;
  std::vector<ArchiveEntry> entries;
  std::string expected_error;
};

TEST_F(ArchiveExtractTest, RefusesHostileArchivesWritingNothing) {
  const std::string outside = (root_ / "outside.txt").string();
  const HostileCase cases[] = {
      {"slip.zip",
       ArchiveFormat::kZip,
       {{"good.txt", "fine"}, {"../outside.txt", "pwned"}},
       "refusing entry \"../outside.txt\": path leaves the target folder"},
      {"deep-slip.zip",
       ArchiveFormat::kZip,
       {{"a/b/../../../outside.txt", "pwned"}},
       "path leaves the target folder"},
      {"absolute.tar.gz",
       ArchiveFormat::kTarGz,
       {{outside, "pwned"}},
       "absolute path"},
      {"symlink.tar.gz",
       ArchiveFormat::kTarGz,
       {{"link", "", ArchiveEntry::Kind::kSymlink, "../"},
        {"link/outside.txt", "pwned"}},
       "symlink to \"../\" points outside the target folder"},
      {"symlink-abs.tar.gz",
       ArchiveFormat::kTarGz,
       {{"etc", "", ArchiveEntry::Kind::kSymlink, "/etc"}},
       "points outside"},
      {"hardlink.tar.gz",
       ArchiveFormat::kTarGz,
       {{"h", "", ArchiveEntry::Kind::kHardlink, "../../etc/passwd"}},
       "hard link"},
  };
  for (const HostileCase& c : cases) {
    std::string archive = Archive(c.name, c.format, c.entries);
    const std::string target = (root_ / "out").string();
    absl::Status status = ExtractArchive(archive, target);
    ASSERT_FALSE(status.ok()) << c.name;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.name)) << c.name;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.expected_error))
        << c.name;
    EXPECT_THAT(FilesOutsideInbox(), ::testing::IsEmpty()) << c.name;
  }
}

TEST_F(ArchiveExtractTest, CapsTotalSizeAndEntryCount) {
  // 8 MiB of zeros compresses to a few KiB: a small size bomb.
  std::string bomb = Archive("bomb.zip", ArchiveFormat::kZip,
                             {{"zeros.bin", std::string(8 << 20, '\0')}});
  ExtractLimits limits;
  limits.max_total_bytes = 1 << 20;
  absl::Status status = ExtractArchive(bomb, (root_ / "out").string(), limits);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("exceeds the cap of 1048576 bytes"));
  EXPECT_THAT(FilesOutsideInbox(), ::testing::IsEmpty());

  std::vector<ArchiveEntry> many;
  for (int i = 0; i < 20; ++i) many.push_back({"f" + std::to_string(i), "x"});
  std::string crowd = Archive("many.zip", ArchiveFormat::kZip, many);
  limits = ExtractLimits();
  limits.max_entries = 10;
  status = ExtractArchive(crowd, (root_ / "out").string(), limits);
  EXPECT_THAT(std::string(status.message()), HasSubstr("more than 10 entries"));
  EXPECT_THAT(FilesOutsideInbox(), ::testing::IsEmpty());
}

TEST_F(ArchiveExtractTest, GunzipsAndRejectsNonGzip) {
  auto gz = testing::Gzip("hello idx");
  ASSERT_TRUE(gz.ok());
  const std::string path = (root_ / "inbox" / "x.gz").string();
  ASSERT_TRUE(WriteFileAtomically(path, *gz).ok());
  EXPECT_EQ(*GunzipFile(path), "hello idx");
  EXPECT_THAT(GunzipFile(path, 4).status().message(),
              HasSubstr("decompresses to more than 4 bytes"));
  const std::string plain = (root_ / "inbox" / "plain.gz").string();
  ASSERT_TRUE(WriteFileAtomically(plain, "not compressed").ok());
  EXPECT_THAT(GunzipFile(plain).status().message(), HasSubstr(plain));
}

TEST(StaysInsideTest, Lexical) {
  EXPECT_TRUE(StaysInside("a/b/../c"));
  EXPECT_TRUE(StaysInside("./a"));
  EXPECT_FALSE(StaysInside(".."));
  EXPECT_FALSE(StaysInside("a/../../b"));
}

}  // namespace
}  // namespace vit_moe::data
