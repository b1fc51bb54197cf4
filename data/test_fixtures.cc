#include "data/test_fixtures.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "data/archive_extract.h"
#include "data/ppm.h"
#include "data/random.h"
#include "data/test_archives.h"

namespace vit_moe::data::testing {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> RandomBytes(SplitMix64& rng, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.Next() >> 56);
  return bytes;
}

void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::string IdxImages(const ImageSet& set, int side) {
  std::string out;
  AppendBigEndian32(out, 0x00000803);
  AppendBigEndian32(out, static_cast<uint32_t>(set.size()));
  AppendBigEndian32(out, side);
  AppendBigEndian32(out, side);
  out.append(set.pixels.begin(), set.pixels.end());
  return out;
}

std::string IdxLabels(const ImageSet& set) {
  std::string out;
  AppendBigEndian32(out, 0x00000801);
  AppendBigEndian32(out, static_cast<uint32_t>(set.size()));
  out.append(set.labels.begin(), set.labels.end());
  return out;
}

PinnedFile* AddPin(SourceSet& set, const std::string& dir,
                   const std::string& name) {
  PinnedFile* pin = set.add_files();
  pin->set_name(name);
  pin->add_urls((fs::path(dir) / name).string());
  return pin;
}

// Images in HWC order with labels, each image random.
ImageSet RandomImages(SplitMix64& rng, const std::vector<uint8_t>& labels,
                      int height, int width, int channels) {
  ImageSet set;
  set.labels = labels;
  set.pixels = RandomBytes(
      rng, labels.size() * static_cast<size_t>(height) * width * channels);
  return set;
}

std::string CifarBatch(const ImageSet& set, size_t first, size_t count) {
  constexpr int kPlane = 32 * 32;
  std::string out;
  for (size_t i = first; i < first + count; ++i) {
    out.push_back(static_cast<char>(set.labels[i]));
    const uint8_t* hwc = set.pixels.data() + i * kPlane * 3;
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < kPlane; ++p)
        out.push_back(static_cast<char>(hwc[p * 3 + c]));
    }
  }
  return out;
}

// A PPM whose ROI (inclusive corners in the returned CSV fields) holds
// `record` (32x32 RGB) inside a random border.
struct GtsrbImage {
  std::string ppm;
  std::string csv_fields;  // "W;H;X1;Y1;X2;Y2"
};

GtsrbImage EmbedInBorder(SplitMix64& rng, const uint8_t* record) {
  const int left = 3 + static_cast<int>(rng.Uniform(6));
  const int top = 3 + static_cast<int>(rng.Uniform(6));
  const int right = 3 + static_cast<int>(rng.Uniform(6));
  const int bottom = 3 + static_cast<int>(rng.Uniform(6));
  RgbImage image;
  image.width = left + 32 + right;
  image.height = top + 32 + bottom;
  image.pixels =
      RandomBytes(rng, static_cast<size_t>(image.width) * image.height * 3);
  for (int y = 0; y < 32; ++y) {
    std::copy(record + y * 32 * 3, record + (y + 1) * 32 * 3,
              image.pixels.begin() + ((top + y) * image.width + left) * 3);
  }
  return GtsrbImage{EncodePpm(image),
                    absl::StrCat(image.width, ";", image.height, ";", left, ";",
                                 top, ";", left + 31, ";", top + 31)};
}

constexpr char kGtsrbHeader[] =
    "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId";

}  // namespace

absl::Status PinDigests(SourceManifest& sources) {
  for (SourceSet& set : *sources.mutable_source_sets()) {
    for (PinnedFile& pin : *set.mutable_files()) {
      const std::string path = pin.urls(0);
      ASSIGN_OR_RETURN(std::string sha256, Sha256OfFile(path));
      ASSIGN_OR_RETURN(std::string md5, Md5OfFile(path));
      pin.set_sha256(sha256);
      pin.set_md5(md5);
      if (absl::EndsWith(pin.name(), ".gz") &&
          !absl::EndsWith(pin.name(), ".tar.gz")) {
        ASSIGN_OR_RETURN(std::string content, GunzipFile(path));
        pin.set_content_sha256(Sha256Hex(content));
        Digester content_md5(DigestKind::kMd5);
        content_md5.Update(content);
        pin.set_content_md5(content_md5.FinishHex());
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Fixture> MakeFashionMnistFixture(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  SplitMix64 rng(1);
  Fixture fixture;
  ConvertedDataset& data = fixture.expected;
  data.dataset = FASHION_MNIST;
  data.class_names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                      "Coat",        "Sandal",    "Shirt",    "Sneaker",
                      "Bag",         "Ankle boot"};
  data.height = data.width = 28;
  data.channels = 1;
  data.resize_method = "none";
  std::vector<uint8_t> train_labels, test_labels;
  for (int i = 0; i < 120; ++i) train_labels.push_back((i * 7) % 10);
  for (int i = 0; i < 20; ++i) test_labels.push_back(i % 10);
  data.train = RandomImages(rng, train_labels, 28, 28, 1);
  data.test = RandomImages(rng, test_labels, 28, 28, 1);
  SourceSet* set = fixture.sources.add_source_sets();
  set->set_dataset(FASHION_MNIST);
  set->set_name("fixture");
  const std::pair<std::string, std::string> files[] = {
      {"train-images-idx3-ubyte.gz", IdxImages(data.train, 28)},
      {"train-labels-idx1-ubyte.gz", IdxLabels(data.train)},
      {"t10k-images-idx3-ubyte.gz", IdxImages(data.test, 28)},
      {"t10k-labels-idx1-ubyte.gz", IdxLabels(data.test)}};
  for (const auto& [name, contents] : files) {
    ASSIGN_OR_RETURN(std::string gz, Gzip(contents));
    RETURN_IF_ERROR(WriteFileAtomically((fs::path(dir) / name).string(), gz));
    AddPin(*set, dir, name);
  }
  RETURN_IF_ERROR(PinDigests(fixture.sources));
  return fixture;
}

absl::StatusOr<Fixture> MakeCifar10Fixture(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  SplitMix64 rng(2);
  Fixture fixture;
  ConvertedDataset& data = fixture.expected;
  data.dataset = CIFAR10;
  data.class_names = {"airplane", "automobile", "bird",  "cat",  "deer",
                      "dog",      "frog",       "horse", "ship", "truck"};
  data.height = data.width = 32;
  data.channels = 3;
  data.resize_method = "none";
  std::vector<uint8_t> train_labels, test_labels;
  for (int i = 0; i < 50; ++i) train_labels.push_back((i * 3) % 10);
  for (int i = 0; i < 10; ++i) test_labels.push_back(9 - i);
  data.train = RandomImages(rng, train_labels, 32, 32, 3);
  data.test = RandomImages(rng, test_labels, 32, 32, 3);
  std::vector<ArchiveEntry> entries;
  entries.push_back({"cifar-10-batches-bin/", "", ArchiveEntry::Kind::kFolder});
  std::string meta;
  for (const std::string& name : data.class_names)
    absl::StrAppend(&meta, name, "\n");
  meta += "\n";  // the published file ends with a blank line
  entries.push_back({"cifar-10-batches-bin/batches.meta.txt", meta});
  for (int b = 0; b < 5; ++b) {
    entries.push_back(
        {absl::StrCat("cifar-10-batches-bin/data_batch_", b + 1, ".bin"),
         CifarBatch(data.train, b * 10, 10)});
  }
  entries.push_back(
      {"cifar-10-batches-bin/test_batch.bin", CifarBatch(data.test, 0, 10)});
  entries.push_back(
      {"cifar-10-batches-bin/readme.html", "<meta HTTP-EQUIV=\"REFRESH\">\n"});
  const std::string tarball =
      (fs::path(dir) / "cifar-10-binary.tar.gz").string();
  RETURN_IF_ERROR(WriteArchive(tarball, ArchiveFormat::kTarGz, entries));
  SourceSet* set = fixture.sources.add_source_sets();
  set->set_dataset(CIFAR10);
  set->set_name("fixture");
  AddPin(*set, dir, "cifar-10-binary.tar.gz");
  RETURN_IF_ERROR(PinDigests(fixture.sources));
  return fixture;
}

absl::StatusOr<Fixture> MakeGtsrbFixture(const std::string& dir) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  SplitMix64 rng(3);
  Fixture fixture;
  ConvertedDataset& data = fixture.expected;
  data.dataset = GTSRB;
  data.height = data.width = 32;
  data.channels = 3;
  data.resize_method = "roi_crop_then_area_resize";
  constexpr int kClasses = 43, kTracks = 3, kFrames = 2;
  std::vector<uint8_t> train_labels, test_labels;
  for (int c = 0; c < kClasses; ++c) {
    for (int i = 0; i < kTracks * kFrames; ++i) {
      train_labels.push_back(static_cast<uint8_t>(c));
      data.train.groups.push_back(c * 100000 + i / kFrames);
    }
  }
  for (int i = 0; i < 12; ++i)
    test_labels.push_back(static_cast<uint8_t>((i * 11) % kClasses));
  std::vector<int64_t> groups = data.train.groups;
  data.train = RandomImages(rng, train_labels, 32, 32, 3);
  data.train.groups = groups;
  data.test = RandomImages(rng, test_labels, 32, 32, 3);

  std::vector<ArchiveEntry> train{
      {"GTSRB/", "", ArchiveEntry::Kind::kFolder},
      {"GTSRB/Final_Training/", "", ArchiveEntry::Kind::kFolder},
      {"GTSRB/Final_Training/Images/", "", ArchiveEntry::Kind::kFolder}};
  size_t index = 0;
  for (int c = 0; c < kClasses; ++c) {
    const std::string folder =
        absl::StrFormat("GTSRB/Final_Training/Images/%05d/", c);
    train.push_back({folder, "", ArchiveEntry::Kind::kFolder});
    std::string csv = absl::StrCat(kGtsrbHeader, "\n");
    for (int t = 0; t < kTracks; ++t) {
      for (int f = 0; f < kFrames; ++f, ++index) {
        // Track numbers are not contiguous in the real data either.
        const std::string file =
            absl::StrFormat("%05d_%05d.ppm", t * 2 + c % 2, f);
        GtsrbImage image =
            EmbedInBorder(rng, data.train.pixels.data() + index * 32 * 32 * 3);
        train.push_back({folder + file, image.ppm});
        absl::StrAppend(&csv, file, ";", image.csv_fields, ";", c, "\n");
      }
    }
    train.push_back({absl::StrFormat("%sGT-%05d.csv", folder, c), csv});
  }
  // Group ids follow the file names' track numbers.
  for (size_t i = 0; i < data.train.groups.size(); ++i) {
    int64_t c = data.train.groups[i] / 100000,
            t = data.train.groups[i] % 100000;
    data.train.groups[i] = c * 100000 + t * 2 + c % 2;
  }
  std::vector<ArchiveEntry> test{
      {"GTSRB/", "", ArchiveEntry::Kind::kFolder},
      {"GTSRB/Final_Test/", "", ArchiveEntry::Kind::kFolder},
      {"GTSRB/Final_Test/Images/", "", ArchiveEntry::Kind::kFolder}};
  std::string public_csv =
      absl::StrCat("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\r\n");
  std::string gt_csv = absl::StrCat(kGtsrbHeader, "\r\n");
  for (int i = 0; i < data.test.size(); ++i) {
    const std::string file = absl::StrFormat("%05d.ppm", i);
    GtsrbImage image =
        EmbedInBorder(rng, data.test.pixels.data() + i * 32 * 32 * 3);
    test.push_back({"GTSRB/Final_Test/Images/" + file, image.ppm});
    absl::StrAppend(&public_csv, file, ";", image.csv_fields, "\r\n");
    absl::StrAppend(&gt_csv, file, ";", image.csv_fields, ";",
                    int{data.test.labels[i]}, "\r\n");
  }
  test.push_back(
      {"GTSRB/Final_Test/Images/GT-final_test.test.csv", public_csv});
  std::vector<ArchiveEntry> gt{{"GT-final_test.csv", gt_csv}};

  SourceSet* set = fixture.sources.add_source_sets();
  set->set_dataset(GTSRB);
  set->set_name("fixture");
  const std::pair<std::string, const std::vector<ArchiveEntry>*> zips[] = {
      {"GTSRB_Final_Training_Images.zip", &train},
      {"GTSRB_Final_Test_Images.zip", &test},
      {"GTSRB_Final_Test_GT.zip", &gt}};
  for (const auto& [name, entries] : zips) {
    RETURN_IF_ERROR(WriteArchive((fs::path(dir) / name).string(),
                                 ArchiveFormat::kZip, *entries));
    AddPin(*set, dir, name);
  }
  RETURN_IF_ERROR(PinDigests(fixture.sources));
  return fixture;
}

}  // namespace vit_moe::data::testing
