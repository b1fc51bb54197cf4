// End to end: fixtures in the real formats go through fetch -> verify ->
// extract -> convert -> split -> pack, are read back by DatasetStore and
// normalised.
#include "data/stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "data/archive_extract.h"
#include "data/normalization.h"
#include "data/store.h"
#include "data/test_archives.h"
#include "data/test_fixtures.h"
#include "data/test_http_server.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }

  StageOptions Options(DatasetName dataset, const std::string& out) {
    StageOptions options;
    options.dataset = dataset;
    options.out_dir = (root_ / out).string();
    options.fetch.download.show_progress = false;
    options.fetch.download.initial_backoff_seconds = 0.01;
    return options;
  }

  fs::path root_;
};

std::string Record(const torch::Tensor& images, int64_t i) {
  torch::Tensor image = images[i].contiguous();
  return std::string(static_cast<const char*>(image.data_ptr()), image.numel());
}

// Checks that the store's train + validation splits hold exactly the
// official training images (each once, with its label) and test equals the
// official test set in order. Returns each train/validation image's index in
// the official set.
void ExpectPackedContent(const DatasetStore& store,
                         const ConvertedDataset& expected,
                         std::map<std::string, std::vector<int64_t>>* origin) {
  const size_t record_size =
      static_cast<size_t>(expected.height) * expected.width * expected.channels;
  std::map<std::string, int64_t> by_content;
  for (int64_t i = 0; i < expected.train.size(); ++i) {
    by_content[std::string(
        reinterpret_cast<const char*>(expected.train.pixels.data()) +
            i * record_size,
        record_size)] = i;
  }
  ASSERT_EQ(by_content.size(), static_cast<size_t>(expected.train.size()));
  std::set<int64_t> seen;
  for (const char* name : {"train", "validation"}) {
    auto split = store.split(name);
    ASSERT_TRUE(split.ok()) << split.status();
    const SplitData& data = **split;
    ASSERT_EQ(data.images.size(1), expected.height);
    ASSERT_EQ(data.images.size(3), expected.channels);
    for (int64_t i = 0; i < data.images.size(0); ++i) {
      auto it = by_content.find(Record(data.images, i));
      ASSERT_NE(it, by_content.end()) << name << " image " << i;
      EXPECT_EQ(data.labels[i].item<int64_t>(),
                expected.train.labels[it->second]);
      EXPECT_TRUE(seen.insert(it->second).second) << "duplicate " << it->second;
      (*origin)[name].push_back(it->second);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(expected.train.size()));
  auto test = store.split("test");
  ASSERT_TRUE(test.ok());
  ASSERT_EQ((*test)->images.size(0), expected.test.size());
  for (int64_t i = 0; i < expected.test.size(); ++i) {
    EXPECT_EQ(
        Record((*test)->images, i),
        std::string(reinterpret_cast<const char*>(expected.test.pixels.data()) +
                        i * record_size,
                    record_size))
        << "test image " << i;
    EXPECT_EQ((*test)->labels[i].item<int64_t>(), expected.test.labels[i]);
  }
}

// Mean/std of the training split computed the plain way, for comparison.
void ExpectNormalization(const DatasetStore& store) {
  auto norm = ComputeNormalization(store);
  ASSERT_TRUE(norm.ok()) << norm.status();
  const SplitData& train = **store.split("train");
  torch::Tensor x = train.images.to(torch::kFloat64) / 255.0;  // [N, H, W, C]
  torch::Tensor mean = x.mean({0, 1, 2});
  torch::Tensor std = x.std({0, 1, 2}, /*unbiased=*/false);
  ASSERT_EQ(norm->mean_size(), x.size(3));
  for (int c = 0; c < norm->mean_size(); ++c) {
    EXPECT_NEAR(norm->mean(c), mean[c].item<double>(), 1e-9);
    EXPECT_NEAR(norm->std(c), std[c].item<double>(), 1e-9);
  }
  EXPECT_EQ(norm->num_images(), train.images.size(0));
  EXPECT_EQ(norm->manifest_sha256(), store.manifest_sha256());
  EXPECT_EQ(norm->split(), "train");
}

TEST_F(StageTest, FashionMnistFromMirrorPacksWhatWasPutIn) {
  auto fixture = testing::MakeFashionMnistFixture((root_ / "mirror").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  StageOptions options = Options(FASHION_MNIST, "store");
  options.fetch.mirror_dir = (root_ / "mirror").string();
  auto manifest = RunDownloadStage(fixture->sources, options);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->split_rule().method(), "stratified_per_class");
  auto store = DatasetStore::Open(options.out_dir + "/manifest.pb");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->num_classes(), 10);
  EXPECT_EQ(store->manifest().sources_size(), 4);
  EXPECT_EQ(store->manifest().sources(0).sha256(),
            fixture->sources.source_sets(0).files(0).sha256());
  std::map<std::string, std::vector<int64_t>> origin;
  ExpectPackedContent(*store, fixture->expected, &origin);
  EXPECT_EQ(origin["validation"].size(), 10u);  // 120 / 12, one per class
  ExpectNormalization(*store);
  EXPECT_FALSE(fs::exists(options.out_dir + "/extracted"));
}

TEST_F(StageTest, Cifar10OverHttpWithResume) {
  auto fixture = testing::MakeCifar10Fixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  testing::TestHttpServer server;
  PinnedFile* pin = fixture->sources.mutable_source_sets(0)->mutable_files(0);
  server.AddFile("/cifar-10-binary.tar.gz", *ReadFile(pin->urls(0)),
                 testing::TestHttpServer::Behavior::kDropFirstHalfway);
  pin->set_urls(0, server.UrlFor("/cifar-10-binary.tar.gz"));
  StageOptions options = Options(CIFAR10, "store");
  auto manifest = RunDownloadStage(fixture->sources, options);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(server.range_headers().size(), 1u);
  EXPECT_EQ(manifest->sources(0).location(), pin->urls(0));
  auto store = DatasetStore::Open(options.out_dir + "/manifest.pb");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->manifest().class_names(9), "truck");
  std::map<std::string, std::vector<int64_t>> origin;
  ExpectPackedContent(*store, fixture->expected, &origin);
  EXPECT_EQ(origin["validation"].size(), 5u);
  ExpectNormalization(*store);
}

TEST_F(StageTest, GtsrbCropsRoiAndSplitsByTrack) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  for (PinnedFile& pin :
       *fixture->sources.mutable_source_sets(0)->mutable_files()) {
    pin.set_urls(0, "file://" + pin.urls(0));
  }
  StageOptions options = Options(GTSRB, "store");
  options.validation_fraction = 1.0 / 3.0;  // one of three tracks per class
  auto manifest = RunDownloadStage(fixture->sources, options);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->split_rule().method(), "by_track_stratified_per_class");
  EXPECT_EQ(manifest->resize_method(), "roi_crop_then_area_resize");
  auto store = DatasetStore::Open(options.out_dir + "/manifest.pb");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->num_classes(), 43);
  std::map<std::string, std::vector<int64_t>> origin;
  ExpectPackedContent(*store, fixture->expected, &origin);
  const auto& groups = fixture->expected.train.groups;
  std::set<int64_t> train_tracks, validation_tracks;
  for (int64_t i : origin["train"]) train_tracks.insert(groups[i]);
  for (int64_t i : origin["validation"]) validation_tracks.insert(groups[i]);
  EXPECT_EQ(validation_tracks.size(), 43u);
  for (int64_t track : validation_tracks) {
    EXPECT_EQ(train_tracks.count(track), 0u) << "track " << track;
  }
  for (int64_t count : manifest->splits(1).images_per_class()) {
    EXPECT_EQ(count, 2);  // one whole track of two frames
  }
  ExpectNormalization(*store);
}

TEST_F(StageTest, RunningTwiceGivesByteIdenticalArtifacts) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  std::map<std::string, std::string> digests[2];
  for (int run = 0; run < 2; ++run) {
    StageOptions options = Options(GTSRB, "store" + std::to_string(run));
    ASSERT_TRUE(RunDownloadStage(fixture->sources, options).ok());
    auto store = DatasetStore::Open(options.out_dir + "/manifest.pb");
    ASSERT_TRUE(store.ok());
    auto norm = ComputeNormalization(*store);
    ASSERT_TRUE(norm.ok());
    ASSERT_TRUE(
        WriteBinaryProto(options.out_dir + "/normalization.pb", *norm).ok());
    for (const auto& entry : fs::directory_iterator(options.out_dir)) {
      if (entry.is_regular_file()) {
        digests[run][entry.path().filename().string()] =
            *Sha256OfFile(entry.path().string());
      }
    }
  }
  EXPECT_EQ(digests[0].size(), 8u);  // manifest, 3 x 2 store files, norm
  EXPECT_EQ(digests[0], digests[1]);
}

TEST_F(StageTest, WrongSourceBytesStopBeforeAnyOutput) {
  auto fixture = testing::MakeFashionMnistFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  testing::TestHttpServer server;
  PinnedFile* pin = fixture->sources.mutable_source_sets(0)->mutable_files(2);
  server.AddFile("/t10k.gz", *ReadFile(pin->urls(0)),
                 testing::TestHttpServer::Behavior::kCorrupt);
  pin->set_urls(0, server.UrlFor("/t10k.gz"));
  StageOptions options = Options(FASHION_MNIST, "store");
  auto manifest = RunDownloadStage(fixture->sources, options);
  ASSERT_FALSE(manifest.ok());
  EXPECT_THAT(manifest.status().message(),
              HasSubstr("t10k-images-idx3-ubyte.gz (" + pin->urls(0) +
                        "): SHA-256 mismatch: expected " + pin->sha256()));
  std::vector<std::string> written;
  for (const auto& entry : fs::recursive_directory_iterator(options.out_dir)) {
    if (entry.is_regular_file()) written.push_back(entry.path().string());
  }
  EXPECT_THAT(written, ::testing::IsEmpty());
}

TEST_F(StageTest, WrongDecompressedContentIsRejected) {
  auto fixture = testing::MakeFashionMnistFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok());
  fixture->sources.mutable_source_sets(0)->mutable_files(1)->set_content_md5(
      "00000000000000000000000000000000");
  StageOptions options = Options(FASHION_MNIST, "store");
  auto manifest = RunDownloadStage(fixture->sources, options);
  EXPECT_THAT(manifest.status().message(),
              HasSubstr("train-labels-idx1-ubyte.gz"));
  EXPECT_THAT(manifest.status().message(), HasSubstr("decompressed"));
  EXPECT_FALSE(fs::exists(options.out_dir + "/manifest.pb"));
}

TEST_F(StageTest, MalformedGtsrbCsvNamesFileAndRow) {
  auto fixture = testing::MakeGtsrbFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok());
  // Rebuild the training zip with one short row in class 5's CSV.
  const std::string zip = fixture->sources.source_sets(0).files(0).urls(0);
  const std::string unpacked = (root_ / "unpacked").string();
  ASSERT_TRUE(ExtractArchive(zip, unpacked).ok());
  const std::string csv =
      unpacked + "/GTSRB/Final_Training/Images/00005/GT-00005.csv";
  std::string text = *ReadFile(csv);
  text += "00009_00000.ppm;40;40;5\n";
  ASSERT_TRUE(WriteFileAtomically(csv, text).ok());
  std::vector<testing::ArchiveEntry> entries;
  for (const auto& entry : fs::recursive_directory_iterator(unpacked)) {
    if (!entry.is_regular_file()) continue;
    entries.push_back({fs::relative(entry.path(), unpacked).string(),
                       *ReadFile(entry.path().string())});
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  ASSERT_TRUE(
      testing::WriteArchive(zip, testing::ArchiveFormat::kZip, entries).ok());
  ASSERT_TRUE(testing::PinDigests(fixture->sources).ok());
  auto manifest = RunDownloadStage(fixture->sources, Options(GTSRB, "store"));
  EXPECT_THAT(manifest.status().message(),
              HasSubstr("GT-00005.csv:8: expected 8 fields, got 4"));
}

TEST_F(StageTest, StoreRefusesTamperedFilesAndUnknownVersions) {
  auto fixture = testing::MakeFashionMnistFixture((root_ / "src").string());
  ASSERT_TRUE(fixture.ok());
  StageOptions options = Options(FASHION_MNIST, "store");
  ASSERT_TRUE(RunDownloadStage(fixture->sources, options).ok());
  const std::string manifest_path = options.out_dir + "/manifest.pb";
  const std::string labels = options.out_dir + "/test_labels.u8";
  std::string bytes = *ReadFile(labels);
  bytes[3] ^= 1;
  ASSERT_TRUE(WriteFileAtomically(labels, bytes).ok());
  auto tampered = DatasetStore::Open(manifest_path);
  EXPECT_EQ(tampered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(tampered.status().message(),
              HasSubstr("test_labels.u8: SHA-256 mismatch"));

  DatasetManifest manifest;
  ASSERT_TRUE(ReadBinaryProto(manifest_path, &manifest).ok());
  manifest.set_format_version(99);
  ASSERT_TRUE(WriteBinaryProto(manifest_path, manifest).ok());
  EXPECT_THAT(DatasetStore::Open(manifest_path).status().message(),
              HasSubstr("format_version 99 is not supported"));
  EXPECT_EQ(DatasetStore::Open(options.out_dir + "/nothing.pb").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SourceManifestTest, BuiltInManifestParsesAndPinsEveryFile) {
  auto sources = LoadSourceManifest("");
  ASSERT_TRUE(sources.ok()) << sources.status();
  std::set<DatasetName> datasets;
  for (const SourceSet& set : sources->source_sets()) {
    datasets.insert(set.dataset());
    for (const PinnedFile& file : set.files()) {
      EXPECT_FALSE(file.sha256().empty() && file.md5().empty()) << file.name();
      EXPECT_GT(file.urls_size(), 0) << file.name();
    }
  }
  EXPECT_EQ(datasets.size(), 3u);
  EXPECT_EQ(sources->source_sets(0).name(), "debian");
}

}  // namespace
}  // namespace vit_moe::data
