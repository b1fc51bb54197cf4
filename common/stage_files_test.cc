#include "common/stage_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vit_moe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StageFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_ / "store");
    std::ofstream(root_ / "store" / "manifest.pb") << "m";
    std::ofstream(root_ / "store" / "train_images.u8") << "pixels";
    files_.AddInput("--manifest", path("store/manifest.pb"));
    files_.AddListedInput("--manifest=m.pb", path("store/train_images.u8"));
  }
  std::string path(const std::string& relative) const {
    return (root_ / relative).string();
  }
  fs::path root_;
  StageFiles files_;
};

TEST_F(StageFilesTest, RefusesAnInputByAnySpelling) {
  absl::Status same = files_.CheckOutput("--out", path("store/manifest.pb"));
  ASSERT_EQ(same.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(same.message(),
              HasSubstr("--out=" + path("store/manifest.pb") +
                        " is --manifest=" + path("store/manifest.pb") +
                        ": the output would overwrite the stage's input"));
  EXPECT_FALSE(files_.CheckOutput("--out", path("store/./manifest.pb")).ok());
  EXPECT_FALSE(
      files_.CheckOutput("--out", path("store/../store/manifest.pb")).ok());
  fs::create_symlink(root_ / "store" / "manifest.pb", root_ / "link.pb");
  EXPECT_FALSE(files_.CheckOutput("--out", path("link.pb")).ok());
  ASSERT_EQ(link(path("store/manifest.pb").c_str(), path("hard.pb").c_str()),
            0);
  EXPECT_THAT(files_.CheckOutput("--out", path("hard.pb")).message(),
              HasSubstr(" is --manifest="));
}

TEST_F(StageFilesTest, RefusesAStoreFileTheManifestLists) {
  absl::Status listed =
      files_.CheckOutput("--out", path("store/train_images.u8"));
  EXPECT_THAT(listed.message(),
              HasSubstr(" is " + path("store/train_images.u8") +
                        " (listed by --manifest=m.pb)"));
}

TEST_F(StageFilesTest, RefusesInsideAnInputAndAFolderHoldingOne) {
  StageFiles folder;
  folder.AddInput("--from", path("store"));
  EXPECT_THAT(folder.CheckOutput("--out_dir", path("store/new")).message(),
              HasSubstr("lies inside --from="));
  // Through a link to the folder, and with the output not yet there.
  fs::create_directory_symlink(root_ / "store", root_ / "alias");
  EXPECT_THAT(
      folder.CheckOutput("--out_dir", path("alias/new/deeper")).message(),
      HasSubstr("lies inside --from="));
  EXPECT_THAT(files_.CheckOutput("--out_dir", root_.string()).message(),
              HasSubstr(" holds --manifest="));
}

TEST_F(StageFilesTest, AcceptsPathsBesideTheInputs) {
  EXPECT_TRUE(files_.CheckOutput("--out", path("store/normalization.pb")).ok());
  EXPECT_TRUE(files_.CheckOutput("--out_dir", path("store/eval")).ok());
  StageFiles folder;
  folder.AddInput("--from", path("store"));
  folder.AddInput("--optional", "");
  EXPECT_TRUE(folder.CheckOutput("--out_dir", path("store_again")).ok());
  EXPECT_TRUE(folder.CheckOutput("--download_dir", "").ok());
}

}  // namespace
}  // namespace vit_moe
