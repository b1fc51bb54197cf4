#include "data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "data/stage.h"
#include "data/store.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Writes a w x h image of `channels` whose pixels are all `value`.
void WriteImage(const fs::path& path, int w, int h, int channels, int value) {
  fs::create_directories(path.parent_path());
  cv::Mat image(h, w, channels == 3 ? CV_8UC3 : CV_8UC1,
                cv::Scalar::all(value));
  ASSERT_TRUE(cv::imwrite(path.string(), image)) << path;
}

class ImageFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    // Three classes, names not in label-friendly order; file names order the
    // split across classes. Sizes vary; every image becomes 8x8.
    int value = 0;
    for (const char* cls : {"stop", "yield", "50kmh"}) {
      for (int i = 0; i < 4; ++i) {
        WriteImage(root_ / "signs" / "train" / cls /
                       (std::string(cls) + "_" + std::to_string(i) + ".png"),
                   10 + i, 12, 3, value += 10);
      }
      WriteImage(root_ / "signs" / "test" / cls / (std::string(cls) + ".bmp"),
                 8, 8, 3, value += 10);
    }
    options_.side = 8;
    options_.channels = 3;
  }

  // The import stage on Signs() into `out`: the store's manifest.
  absl::StatusOr<DatasetManifest> Stage(const std::string& out) {
    ImportOptions options;
    options.layout = "image_folder";
    options.from = Signs().string();
    options.out_dir = (root_ / out).string();
    options.image_folder = options_;
    options.validation_fraction = 0.25;
    absl::StatusOr<ImportResult> result = RunImportStage(options);
    if (!result.ok()) return result.status();
    return result->manifest;
  }

  fs::path Signs() const { return root_ / "signs"; }

  fs::path root_;
  ImageFolderOptions options_;
};

TEST_F(ImageFolderTest, ImportsClassesSplitsAndOrder) {
  absl::StatusOr<ImportedImages> imported =
      ImportImageFolder(Signs().string(), options_);
  ASSERT_TRUE(imported.ok()) << imported.status();
  const ConvertedDataset& data = imported->data;
  EXPECT_EQ(data.dataset, IMAGE_FOLDER);
  EXPECT_THAT(data.class_names, ElementsAre("50kmh", "stop", "yield"));
  EXPECT_EQ(data.height, 8);
  EXPECT_EQ(data.channels, 3);
  EXPECT_EQ(data.resize_method, "stretch_to_square_inter_area_down_linear_up");
  ASSERT_EQ(data.train.size(), 12);
  EXPECT_EQ(data.train.pixels.size(), 12u * 8 * 8 * 3);
  // Ordered by file name: 50kmh_*, stop_*, yield_*.
  EXPECT_THAT(data.train.labels,
              ElementsAre(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2));
  // A uniform image stays uniform through resizing; stop_0 was written
  // with value 10 (the first class written).
  EXPECT_EQ(data.train.pixels[4 * 8 * 8 * 3], 10);
  ASSERT_EQ(data.test.size(), 3);
  EXPECT_EQ(imported->given_validation, 0);
  // No validation folder: the stage holds out a stratified, seeded quarter
  // of train, one image per class.
  absl::StatusOr<DatasetManifest> manifest = Stage("store");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->split_rule().method(), "stratified_per_class");
  ASSERT_EQ(manifest->splits_size(), 3);
  EXPECT_EQ(manifest->splits(0).num_images(), 9);
  EXPECT_EQ(manifest->splits(1).num_images(), 3);
  EXPECT_THAT(manifest->splits(1).images_per_class(), ElementsAre(1, 1, 1));
  ASSERT_EQ(imported->sources.size(), 2u);
  EXPECT_EQ(imported->sources[0].name(), "train/");
  EXPECT_EQ(imported->sources[1].name(), "test/");
  EXPECT_EQ(imported->skipped.count, 0);
}

TEST_F(ImageFolderTest, AGivenValidationFolderIsKeptAsIs) {
  WriteImage(Signs() / "validation" / "stop" / "v0.png", 8, 8, 3, 7);
  WriteImage(Signs() / "validation" / "yield" / "v1.png", 8, 8, 3, 9);
  fs::remove_all(Signs() / "test");
  absl::StatusOr<ImportedImages> imported =
      ImportImageFolder(Signs().string(), options_);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->given_validation, 2);
  EXPECT_EQ(imported->data.train.labels[12], 1);
  EXPECT_EQ(imported->data.train.labels[13], 2);
  EXPECT_EQ(imported->data.test.size(), 0);
  absl::StatusOr<DatasetManifest> manifest = Stage("store");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->split_rule().method(), "given_folder");
  EXPECT_EQ(manifest->splits(0).num_images(), 12);
  EXPECT_THAT(manifest->splits(1).images_per_class(), ElementsAre(0, 1, 1));
  EXPECT_EQ(manifest->splits(2).num_images(), 0);
}

TEST_F(ImageFolderTest, TwoImportsGiveIdenticalStoresAndChangesShow) {
  auto store = [&](const std::string& name) -> std::string {
    EXPECT_TRUE(Stage(name).ok());
    return ReadFile((root_ / name / "manifest.pb").string()).value_or("");
  };
  const std::string a = store("a");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, store("b"));
  absl::StatusOr<DatasetStore> opened =
      DatasetStore::Open((root_ / "a" / "manifest.pb").string());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->num_classes(), 3);

  // One changed pixel changes the pinned digest of train/.
  absl::StatusOr<ImportedImages> before =
      ImportImageFolder(Signs().string(), options_);
  WriteImage(Signs() / "train" / "stop" / "stop_0.png", 10, 12, 3, 11);
  absl::StatusOr<ImportedImages> after =
      ImportImageFolder(Signs().string(), options_);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_NE(before->sources[0].sha256(), after->sources[0].sha256());
  EXPECT_EQ(before->sources[1].sha256(), after->sources[1].sha256());
}

TEST_F(ImageFolderTest, OtherFilesAreSkippedAndCounted) {
  ASSERT_TRUE(
      WriteFileAtomically((Signs() / "train" / "README.txt").string(), "about")
          .ok());
  ASSERT_TRUE(WriteFileAtomically(
                  (Signs() / "train" / "stop" / ".DS_Store").string(), "x")
                  .ok());
  absl::StatusOr<ImportedImages> imported =
      ImportImageFolder(Signs().string(), options_);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->skipped.count, 2);
  EXPECT_EQ(imported->skipped.first,
            (Signs() / "train" / "README.txt").string());
  EXPECT_EQ(imported->data.train.size(), 12);
}

// Images one folder too deep are left out, and the count names where.
TEST_F(ImageFolderTest, AFolderInsideAClassFolderIsSkippedAndNamed) {
  WriteImage(Signs() / "train" / "stop" / "batch2" / "deep.png", 8, 8, 3, 1);
  absl::StatusOr<ImportedImages> imported =
      ImportImageFolder(Signs().string(), options_);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->skipped.count, 1);
  EXPECT_EQ(imported->skipped.first,
            (Signs() / "train" / "stop" / "batch2").string());
  EXPECT_EQ(imported->data.train.size(), 12);
}

// Each bad input fails with a message naming the offending path.
void ExpectError(const absl::StatusOr<ImportedImages>& result,
                 const std::string& path, const std::string& what) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr(path));
  EXPECT_THAT(result.status().message(), HasSubstr(what));
}

TEST_F(ImageFolderTest, AnUndecodableImageIsNamed) {
  const fs::path bad = Signs() / "train" / "stop" / "broken.png";
  ASSERT_TRUE(WriteFileAtomically(bad.string(), "not a png").ok());
  ExpectError(ImportImageFolder(Signs().string(), options_), bad.string(),
              "not a decodable image");
}

TEST_F(ImageFolderTest, AnEmptyImageFileIsNamed) {
  const fs::path empty = Signs() / "train" / "yield" / "empty.jpg";
  ASSERT_TRUE(WriteFileAtomically(empty.string(), "").ok());
  ExpectError(ImportImageFolder(Signs().string(), options_), empty.string(),
              "empty file (0 bytes)");
}

// Class names become text in the manifest, which a later stage could not
// parse back from Latin-1 bytes.
TEST_F(ImageFolderTest, AClassFolderNameThatIsNotUtf8IsRefused) {
  WriteImage(Signs() / "train" / "caf\xE9" / "c.png", 8, 8, 3, 1);
  ExpectError(ImportImageFolder(Signs().string(), options_),
              (Signs() / "train").string(),
              "class folder \"caf\\xe9\" is not valid UTF-8");
}

TEST_F(ImageFolderTest, OneClassIsRefused) {
  for (const char* cls : {"yield", "50kmh"}) {
    fs::remove_all(Signs() / "train" / cls);
    fs::remove_all(Signs() / "test" / cls);
  }
  ExpectError(ImportImageFolder(Signs().string(), options_),
              (Signs() / "train").string(), "at least 2 classes");
}

TEST_F(ImageFolderTest, AnEmptyClassFolderIsNamed) {
  fs::create_directories(Signs() / "train" / "priority");
  ExpectError(ImportImageFolder(Signs().string(), options_),
              (Signs() / "train" / "priority").string(), "holds no images");
}

TEST_F(ImageFolderTest, MixedChannelCountsAreNamed) {
  const fs::path grey = Signs() / "train" / "yield" / "yield_9.png";
  WriteImage(grey, 8, 8, 1, 100);
  ExpectError(ImportImageFolder(Signs().string(), options_), grey.string(),
              "1 channel(s), but the import asks for 3");
}

TEST_F(ImageFolderTest, ASymlinkLoopIsNamed) {
  const fs::path loop = Signs() / "train" / "stop" / "loop.png";
  ASSERT_EQ(symlink(loop.c_str(), loop.c_str()), 0);
  ExpectError(ImportImageFolder(Signs().string(), options_), loop.string(),
              "symbolic links");
}

TEST_F(ImageFolderTest, DuplicateNamesAcrossClassesAreNamed) {
  WriteImage(Signs() / "train" / "yield" / "stop_1.png", 8, 8, 3, 1);
  ExpectError(ImportImageFolder(Signs().string(), options_),
              (Signs() / "train" / "yield" / "stop_1.png").string(),
              "the same file name in two classes");
}

TEST_F(ImageFolderTest, ATestClassUnknownToTrainIsNamed) {
  WriteImage(Signs() / "test" / "priority" / "p.png", 8, 8, 3, 1);
  ExpectError(ImportImageFolder(Signs().string(), options_),
              (Signs() / "test" / "priority").string(), "no class of that");
}

TEST_F(ImageFolderTest, MissingTrainAndBadOptionsAreRefused) {
  ExpectError(ImportImageFolder((root_ / "nowhere").string(), options_),
              "nowhere/train", "missing");
  ImageFolderOptions bad = options_;
  bad.channels = 4;
  EXPECT_FALSE(ImportImageFolder(Signs().string(), bad).ok());
  bad = options_;
  bad.side = kMaxImageFolderSide + 1;
  EXPECT_FALSE(ImportImageFolder(Signs().string(), bad).ok());
}

}  // namespace
}  // namespace vit_moe::data
