// Test-only: small copies of the three data sets in their real published
// formats (IDX .gz files; cifar-10-binary.tar.gz; the three GTSRB zips with
// PPMs and ';' CSVs), plus the pinned manifest that describes them and the
// images a correct stage must pack.
#ifndef VIT_MOE_DATA_TEST_FIXTURES_H_
#define VIT_MOE_DATA_TEST_FIXTURES_H_

#include <string>

#include "absl/status/statusor.h"
#include "data/converted.h"
#include "data/source_manifest.pb.h"

namespace vit_moe::data::testing {

struct Fixture {
  // One source set whose urls are the fixture files' paths under the
  // folder given to the Make* function.
  SourceManifest sources;
  // What the store must contain: official train and test sets, records in
  // source order at the canonical size.
  ConvertedDataset expected;
};

// 12 train images per class (120) and 20 test images, 28x28.
absl::StatusOr<Fixture> MakeFashionMnistFixture(const std::string& dir);
// 5 batches of 10 records and a test batch of 10, 32x32x3.
absl::StatusOr<Fixture> MakeCifar10Fixture(const std::string& dir);
// 43 classes x 3 tracks x 2 frames for training, 12 test images. Each PPM
// has a random border around a 32x32 ROI, so the packed record must equal
// the ROI's pixels exactly.
absl::StatusOr<Fixture> MakeGtsrbFixture(const std::string& dir);

// Fills in sha256/md5 (and content digests for .gz) of every pinned file
// from the file its first url names.
absl::Status PinDigests(SourceManifest& sources);

}  // namespace vit_moe::data::testing

#endif  // VIT_MOE_DATA_TEST_FIXTURES_H_
