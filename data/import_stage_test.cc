// The import stage on data users already have: GTSRB extracted as
// published, in the seed's layout, as zips (the seed's
// GTSRB-Training_fixed.zip name included) and in Kaggle's layout, and
// CIFAR-10 extracted, each against the download route's store from the
// same fixture files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "data/archive_extract.h"
#include "data/gtsrb_csv.h"
#include "data/stage.h"
#include "data/test_fixtures.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kStoreFiles[] = {
    "train_images.u8",      "train_labels.u8", "validation_images.u8",
    "validation_labels.u8", "test_images.u8",  "test_labels.u8"};

class ImportStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }

  // The store //data:download packs from `fixture`'s files.
  std::string Downloaded(testing::Fixture& fixture, DatasetName dataset) {
    for (PinnedFile& pin :
         *fixture.sources.mutable_source_sets(0)->mutable_files()) {
      pin.set_urls(0, "file://" + pin.urls(0));
    }
    StageOptions options;
    options.dataset = dataset;
    options.out_dir = (root_ / "downloaded").string();
    options.fetch.download.show_progress = false;
    auto manifest = RunDownloadStage(fixture.sources, options);
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    return options.out_dir;
  }

  absl::StatusOr<ImportResult> Import(const std::string& layout,
                                      const fs::path& from,
                                      const std::string& out) {
    ImportOptions options;
    options.layout = layout;
    options.from = from.string();
    options.out_dir = (root_ / out).string();
    return RunImportStage(options);
  }

  // The fixture's three GTSRB zips (under zips/) extracted as published,
  // each into official/<zip name>/.
  fs::path ExtractZips() {
    const fs::path official = root_ / "official";
    for (const char* zip :
         {"GTSRB_Final_Training_Images.zip", "GTSRB_Final_Test_Images.zip",
          "GTSRB_Final_Test_GT.zip"}) {
      EXPECT_TRUE(ExtractArchive((root_ / "zips" / zip).string(),
                                 (official / zip).string())
                      .ok())
          << zip;
    }
    return official;
  }

  void ExpectSameStore(const std::string& a, const std::string& b) {
    for (const char* file : kStoreFiles) {
      EXPECT_EQ(ReadFile(a + "/" + file).value_or("a"),
                ReadFile(b + "/" + file).value_or("b"))
          << file;
    }
  }

  fs::path root_;
};

TEST_F(ImportStageTest, GtsrbInEveryLayoutEqualsTheDownload) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "zips").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const std::string downloaded = Downloaded(*fixture, GTSRB);

  // The three zips as they lie in a folder.
  auto zips = Import("gtsrb", root_ / "zips", "from_zips");
  ASSERT_TRUE(zips.ok()) << zips.status();
  EXPECT_EQ(zips->manifest.dataset(), GTSRB);
  EXPECT_EQ(zips->manifest.split_rule().method(),
            "by_track_stratified_per_class");
  ExpectSameStore(downloaded, (root_ / "from_zips").string());
  ASSERT_EQ(zips->manifest.sources_size(), 1);
  EXPECT_EQ(zips->manifest.sources(0).sha256().size(), 64u);

  // Extracted as published.
  const fs::path official = ExtractZips();
  auto extracted = Import("gtsrb", official, "from_official");
  ASSERT_TRUE(extracted.ok()) << extracted.status();
  ExpectSameStore(downloaded, (root_ / "from_official").string());

  // The seed's layout: GTSRB/Training/000NN, GTSRB/Test/Images and
  // GTSRB/Test/GT-final_test.csv.
  const fs::path seed = root_ / "seed" / "GTSRB";
  fs::create_directories(seed / "Test");
  fs::rename(official / "GTSRB_Final_Training_Images.zip" / "GTSRB" /
                 "Final_Training" / "Images",
             seed / "Training");
  fs::rename(official / "GTSRB_Final_Test_Images.zip" / "GTSRB" / "Final_Test" /
                 "Images",
             seed / "Test" / "Images");
  fs::rename(official / "GTSRB_Final_Test_GT.zip" / "GT-final_test.csv",
             seed / "Test" / "GT-final_test.csv");
  auto seed_layout = Import("gtsrb", root_ / "seed", "from_seed");
  ASSERT_TRUE(seed_layout.ok()) << seed_layout.status();
  ExpectSameStore(downloaded, (root_ / "from_seed").string());

  // The seed's training archive name.
  const fs::path fixed = root_ / "fixed";
  fs::create_directories(fixed);
  fs::copy(root_ / "zips" / "GTSRB_Final_Training_Images.zip",
           fixed / "GTSRB-Training_fixed.zip");
  fs::copy(root_ / "zips" / "GTSRB_Final_Test_Images.zip", fixed);
  fs::copy(root_ / "zips" / "GTSRB_Final_Test_GT.zip", fixed);
  auto from_fixed = Import("gtsrb", fixed, "from_fixed");
  ASSERT_TRUE(from_fixed.ok()) << from_fixed.status();
  ExpectSameStore(downloaded, (root_ / "from_fixed").string());
  // Different files, a different pinned digest; the same files, the same.
  EXPECT_NE(from_fixed->manifest.sources(0).sha256(),
            zips->manifest.sources(0).sha256());
  auto again = Import("gtsrb", root_ / "seed", "from_seed_again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(
      ReadFile((root_ / "from_seed" / "manifest.pb").string()).value(),
      ReadFile((root_ / "from_seed_again" / "manifest.pb").string()).value());
}

// Rewrites the published layout under `official` as the Kaggle
// re-distribution lays it out under `kaggle`: PNGs, Train.csv, Test.csv.
void WriteKaggleLayout(const fs::path& official, const fs::path& kaggle) {
  const fs::path train_dir = official / "GTSRB_Final_Training_Images.zip" /
                             "GTSRB" / "Final_Training" / "Images";
  const std::string header =
      "Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,"
      "ClassId,Path\n";
  auto row = [](const GtsrbRow& r, int class_id, const std::string& path) {
    return absl::StrCat(r.width, ",", r.height, ",", r.x1, ",", r.y1, ",", r.x2,
                        ",", r.y2, ",", class_id, ",", path, "\n");
  };
  std::string train_csv = header;
  for (int c = 0; c < 43; ++c) {
    const fs::path folder = train_dir / absl::StrFormat("%05d", c);
    const std::string csv =
        (folder / absl::StrFormat("GT-%05d.csv", c)).string();
    auto rows = ParseGtsrbCsv(ReadFile(csv).value(), csv, true);
    ASSERT_TRUE(rows.ok()) << rows.status();
    for (const GtsrbRow& r : *rows) {
      const std::string path = absl::StrFormat(
          "Train/%d/%05d_%s.png", c, c, fs::path(r.filename).stem().string());
      fs::create_directories((kaggle / path).parent_path());
      ASSERT_TRUE(cv::imwrite((kaggle / path).string(),
                              cv::imread((folder / r.filename).string())));
      absl::StrAppend(&train_csv, row(r, c, path));
    }
  }
  const fs::path test_dir = official / "GTSRB_Final_Test_Images.zip" / "GTSRB" /
                            "Final_Test" / "Images";
  const std::string gt =
      (official / "GTSRB_Final_Test_GT.zip" / "GT-final_test.csv").string();
  auto rows = ParseGtsrbCsv(ReadFile(gt).value(), gt, true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::string test_csv = header;
  fs::create_directories(kaggle / "Test");
  for (const GtsrbRow& r : *rows) {
    const std::string path =
        "Test/" + fs::path(r.filename).stem().string() + ".png";
    ASSERT_TRUE(cv::imwrite((kaggle / path).string(),
                            cv::imread((test_dir / r.filename).string())));
    absl::StrAppend(&test_csv, row(r, r.class_id, path));
  }
  ASSERT_TRUE(
      WriteFileAtomically((kaggle / "Train.csv").string(), train_csv).ok());
  ASSERT_TRUE(
      WriteFileAtomically((kaggle / "Test.csv").string(), test_csv).ok());
}

TEST_F(ImportStageTest, GtsrbInKagglesLayoutEqualsTheDownload) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "zips").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const std::string downloaded = Downloaded(*fixture, GTSRB);
  const fs::path official = ExtractZips();
  WriteKaggleLayout(official, root_ / "kaggle");
  auto kaggle = Import("gtsrb", root_ / "kaggle", "from_kaggle");
  ASSERT_TRUE(kaggle.ok()) << kaggle.status();
  ExpectSameStore(downloaded, (root_ / "from_kaggle").string());

  // A row naming a missing file is reported with the CSV line and the path.
  const fs::path gone =
      root_ / "kaggle" / "Train" / "5" / "00005_00001_00000.png";
  ASSERT_TRUE(fs::remove(gone));
  auto missing = Import("gtsrb", root_ / "kaggle", "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("Train.csv:"));
  EXPECT_THAT(missing.status().message(), HasSubstr(gone.string()));
}

TEST_F(ImportStageTest, AGtsrbCsvRowNamingAMissingFileIsNamed) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "zips").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const fs::path official = ExtractZips();
  const fs::path missing = official / "GTSRB_Final_Training_Images.zip" /
                           "GTSRB" / "Final_Training" / "Images" / "00003" /
                           "00001_00000.ppm";
  ASSERT_TRUE(fs::remove(missing));
  auto result = Import("gtsrb", official, "store");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr(missing.string()));
  EXPECT_FALSE(fs::exists(root_ / "store" / "manifest.pb"));
}

TEST_F(ImportStageTest, ANonGtsrbFolderSaysWhatWasExpected) {
  fs::create_directories(root_ / "empty");
  auto result = Import("gtsrb", root_ / "empty", "store");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("Final_Training/Images"));
  EXPECT_THAT(result.status().message(), HasSubstr("seed's layout"));
}

TEST_F(ImportStageTest, ExtractedCifar10EqualsTheDownload) {
  auto fixture = testing::MakeCifar10Fixture((root_ / "tarball").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const std::string downloaded = Downloaded(*fixture, CIFAR10);
  ASSERT_TRUE(
      ExtractArchive((root_ / "tarball" / "cifar-10-binary.tar.gz").string(),
                     (root_ / "extracted").string())
          .ok());
  auto imported = Import("cifar10", root_ / "extracted", "imported");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->manifest.dataset(), CIFAR10);
  ExpectSameStore(downloaded, (root_ / "imported").string());

  auto wrong = Import("cifar10", root_ / "tarball", "wrong");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("data_batch_1.bin"));
  auto unknown = Import("imagenet", root_ / "extracted", "unknown");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown"));
}

}  // namespace
}  // namespace vit_moe::data
