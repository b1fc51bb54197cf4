#include "common/atomic_file.h"

#include <filesystem>

#include "gtest/gtest.h"

namespace vit_moe {
namespace {

namespace fs = std::filesystem;

std::string TestDir(const std::string& name) {
  fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(AtomicFileTest, WritesAndReadsBack) {
  std::string dir = TestDir("write_read");
  std::string path = dir + "/nested/out.bin";
  ASSERT_TRUE(WriteFileAtomically(path, std::string("a\0b", 3)).ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, std::string("a\0b", 3));
  EXPECT_EQ(ListDir(dir + "/nested"), std::vector<std::string>{"out.bin"});
}

TEST(AtomicFileTest, WriterThatFailsLeavesNoPartialFile) {
  std::string dir = TestDir("abandon");
  std::string path = dir + "/artifact.pb";
  ASSERT_TRUE(WriteFileAtomically(path, "old contents").ok());
  {
    auto writer = AtomicFileWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append("half of the new cont").ok());
    EXPECT_TRUE(fs::exists(writer->temp_path()));
    // The writer goes out of scope without Commit(), as on an error return.
  }
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"artifact.pb"});
  EXPECT_EQ(*ReadFile(path), "old contents");
}

TEST(AtomicFileTest, FailedRenameLeavesNoTemporaryFile) {
  std::string dir = TestDir("rename_fails");
  // The target is an existing non-empty folder, so rename() must fail.
  std::string path = dir + "/target";
  fs::create_directories(path + "/occupied");
  absl::Status status = WriteFileAtomically(path, "data");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"target"});
}

TEST(AtomicFileTest, MissingFileNamesThePath) {
  auto read = ReadFile("/nonexistent/file.txt");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("/nonexistent/file.txt"),
            std::string::npos);
}

}  // namespace
}  // namespace vit_moe
