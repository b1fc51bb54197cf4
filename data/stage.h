// The download stage as a library: fetch and verify every pinned source of
// a data set, extract and convert them, split validation off the training
// set and write the packed store. Nothing is written to the output folder
// until every source has passed verification.
#ifndef VIT_MOE_DATA_STAGE_H_
#define VIT_MOE_DATA_STAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/archive_extract.h"
#include "data/dataset.pb.h"
#include "data/fetch.h"
#include "data/image_folder.h"
#include "data/source_manifest.pb.h"

namespace vit_moe::data {

// data/sources.textproto, compiled into the stage (generated source).
extern const char kPinnedSourceManifest[];

struct StageOptions {
  DatasetName dataset = DATASET_NAME_UNSPECIFIED;
  std::string out_dir;
  // Source set name; empty = the first set the manifest lists for dataset.
  std::string source_set;
  // fetch.download_dir empty = <out_dir>/downloads.
  FetchOptions fetch;
  // Share of the official training set moved to validation; negative = the
  // data set's default (Fashion-MNIST 1/12 = 5,000 images; CIFAR-10 0.1;
  // GTSRB 0.1 of each class's tracks).
  double validation_fraction = -1.0;
  uint64_t split_seed = 0;
  ExtractLimits extract_limits;
};

// Reads a SourceManifest in text format; empty path = the compiled-in one.
absl::StatusOr<SourceManifest> LoadSourceManifest(const std::string& path);

// "fashion_mnist" | "cifar10" | "gtsrb" (case-insensitive).
absl::StatusOr<DatasetName> ParseDatasetName(absl::string_view name);

absl::StatusOr<DatasetManifest> RunDownloadStage(const SourceManifest& sources,
                                                 const StageOptions& options);

// The import stage: a data set the user already has, packed like a
// download.
struct ImportOptions {
  // "image_folder" (data/image_folder.h), "gtsrb" (extracted or zipped, as
  // published or in the seed's layout; data/gtsrb.h) or "cifar10" (an
  // extracted cifar-10-batches-bin/).
  std::string layout;
  std::string from;
  std::string out_dir;
  // Side and channels, for image_folder.
  ImageFolderOptions image_folder;
  // Negative: the data set's default (0.1 but for Fashion-MNIST). For
  // image_folder only where the folder has no validation/.
  double validation_fraction = -1.0;
  uint64_t split_seed = 0;
  ExtractLimits extract_limits;
};

struct ImportResult {
  DatasetManifest manifest;
  // image_folder: entries that are not images, left out.
  Skipped skipped;
};

// Converts `options.from`, splits validation off (unless the folder gives
// one) and writes the store. GTSRB and CIFAR-10 folders are pinned as one
// source whose SHA-256 covers every file under `from`.
absl::StatusOr<ImportResult> RunImportStage(const ImportOptions& options);

// One line per split of a written store, "train        55000 images", as
// the download and import stages print them.
std::string DescribeSplits(const DatasetManifest& manifest);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_STAGE_H_
