#include "common/run_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace vit_moe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path FreshRoot() {
  const fs::path root =
      fs::path(::testing::TempDir()) /
      ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

TEST(RunFolderTest, CreatesAndGivesBackANewFolder) {
  const std::string dir = (FreshRoot() / "run").string();
  {
    absl::StatusOr<std::unique_ptr<RunFolder>> folder =
        RunFolder::Claim("--out_dir", dir);
    ASSERT_TRUE(folder.ok()) << folder.status();
    EXPECT_TRUE(fs::exists(fs::path(dir) / kRunLockFile));
  }
  // Nothing was written there: the folder goes as it came.
  EXPECT_FALSE(fs::exists(dir));
}

TEST(RunFolderTest, KeepsWhatTheRunWroteAndDropsTheLock) {
  const std::string dir = (FreshRoot() / "run").string();
  {
    auto folder = RunFolder::Claim("--out_dir", dir);
    ASSERT_TRUE(folder.ok()) << folder.status();
    std::ofstream(fs::path(dir) / "evaluation.pb") << "r";
  }
  EXPECT_TRUE(fs::exists(fs::path(dir) / "evaluation.pb"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / kRunLockFile));
}

TEST(RunFolderTest, RefusesASecondRunNamingTheFirst) {
  const std::string dir = (FreshRoot() / "run").string();
  auto first = RunFolder::Claim("output_dir", dir);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = RunFolder::Claim("output_dir", dir);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("output_dir=", dir,
                                     " is in use by process ", getpid())));
}

TEST(RunFolderTest, RefusesAnEarlierRunsFilesUnlessItContinues) {
  const fs::path dir = FreshRoot() / "run";
  fs::create_directories(dir);
  std::ofstream(dir / "best_model.pt") << "m";
  std::ofstream(dir / "metrics.csv") << "c";
  RunFolderRules rules;
  rules.remedy = "pass --resume to continue that run";
  auto refused = RunFolder::Claim("output_dir", dir.string(), rules);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("holds files of an earlier run (best_model.pt, "
                        "metrics.csv); pass --resume to continue that run"));
  EXPECT_FALSE(fs::exists(dir / kRunLockFile));
  rules.continues_earlier_run = true;
  EXPECT_TRUE(RunFolder::Claim("output_dir", dir.string(), rules).ok());
  rules.continues_earlier_run = false;
  rules.may_hold = {"best_model.pt", "metrics.csv"};
  EXPECT_TRUE(RunFolder::Claim("output_dir", dir.string(), rules).ok());
}

TEST(RunFolderTest, RefusesAFile) {
  const fs::path file = FreshRoot() / "file";
  std::ofstream(file) << "x";
  EXPECT_THAT(RunFolder::Claim("--out_dir", file.string()).status().message(),
              HasSubstr("is a file, not a folder"));
}

// The lock of a process killed with SIGKILL is free at once, and its lock
// file left behind does not count as an earlier run's file.
TEST(RunFolderTest, AKilledHolderLeavesNoLock) {
  const std::string dir = (FreshRoot() / "run").string();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto folder = RunFolder::Claim("--out_dir", dir);
    const char byte = folder.ok() ? 1 : 0;
    (void)!write(ready[1], &byte, 1);
    pause();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 1);
  EXPECT_THAT(RunFolder::Claim("--out_dir", dir).status().message(),
              HasSubstr(absl::StrCat("in use by process ", child)));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(fs::exists(fs::path(dir) / kRunLockFile));
  EXPECT_TRUE(RunFolder::Claim("--out_dir", dir).ok());
}

}  // namespace
}  // namespace vit_moe
