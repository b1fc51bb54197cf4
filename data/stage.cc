#include "data/stage.h"

#include <glog/logging.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "data/cifar10.h"
#include "data/fashion_mnist.h"
#include "data/gtsrb.h"
#include "data/image_folder.h"
#include "data/pack.h"
#include "data/split.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<const SourceSet*> FindSourceSet(const SourceManifest& sources,
                                               DatasetName dataset,
                                               const std::string& name) {
  for (const SourceSet& set : sources.source_sets()) {
    if (set.dataset() == dataset && (name.empty() || set.name() == name)) {
      return &set;
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "no source set ", name.empty() ? "" : absl::StrCat("\"", name, "\" "),
      "for ", DatasetName_Name(dataset), " in the pinned source manifest"));
}

double DefaultValidationFraction(DatasetName dataset) {
  return dataset == FASHION_MNIST ? 1.0 / 12.0 : 0.1;
}

// Holds validation out of the official training set (whole tracks for
// GTSRB) and writes the store. A negative fraction is the data set's
// default.
absl::StatusOr<DatasetManifest> SplitAndPack(
    const ConvertedDataset& converted, const std::string& out_dir,
    double validation_fraction, uint64_t seed,
    const std::vector<SourceFile>& sources) {
  SplitRule rule;
  rule.set_method(converted.dataset == GTSRB ? "by_track_stratified_per_class"
                                             : "stratified_per_class");
  rule.set_validation_fraction(
      validation_fraction < 0 ? DefaultValidationFraction(converted.dataset)
                              : validation_fraction);
  rule.set_seed(seed);
  ASSIGN_OR_RETURN(
      SplitIndices split,
      SplitTrainValidation(converted.train,
                           static_cast<int>(converted.class_names.size()),
                           rule.validation_fraction(), rule.seed()));
  LOG(INFO) << "packing " << split.train.size() << " train, "
            << split.validation.size() << " validation, "
            << converted.test.size() << " test images into " << out_dir;
  return WriteStore(out_dir, converted, split, rule, sources);
}

// One SourceFile for everything under `root`: SHA-256 over the sorted
// list of regular files (links to folders are not followed), each line its
// relative path and its content's SHA-256.
absl::StatusOr<SourceFile> DigestTree(const std::string& name,
                                      const std::string& root) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(root, error), end;
       !error && it != end; it.increment(error)) {
    if (it->is_regular_file(error)) files.push_back(it->path());
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(root, ": cannot list: ", error.message()));
  }
  std::sort(files.begin(), files.end());
  Digester digest(DigestKind::kSha256);
  int64_t bytes = 0;
  for (const fs::path& file : files) {
    ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(file.string()));
    bytes += static_cast<int64_t>(fs::file_size(file, error));
    digest.Update(
        absl::StrCat(fs::relative(file, root).string(), "\t", sha, "\n"));
  }
  SourceFile source;
  source.set_name(name);
  source.set_location(root);
  source.set_sha256(digest.FinishHex());
  source.set_size_bytes(bytes);
  return source;
}

absl::StatusOr<ConvertedDataset> Convert(DatasetName dataset,
                                         const VerifiedSources& sources,
                                         const std::string& work_dir,
                                         const ExtractLimits& limits) {
  switch (dataset) {
    case FASHION_MNIST:
      return ConvertFashionMnist(sources);
    case CIFAR10:
      return ConvertCifar10(sources, work_dir, limits);
    case GTSRB:
      return ConvertGtsrb(sources, work_dir, limits);
    default:
      return absl::InvalidArgumentError("no data set chosen");
  }
}

}  // namespace

absl::StatusOr<SourceManifest> LoadSourceManifest(const std::string& path) {
  SourceManifest manifest;
  if (path.empty()) {
    RETURN_IF_ERROR(ParseTextProto(
        kPinnedSourceManifest, "data/sources.textproto (built in)", &manifest));
  } else {
    RETURN_IF_ERROR(ReadTextProto(path, &manifest));
  }
  return manifest;
}

absl::StatusOr<DatasetName> ParseDatasetName(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "fashion_mnist") return FASHION_MNIST;
  if (lower == "cifar10") return CIFAR10;
  if (lower == "gtsrb") return GTSRB;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown data set \"", name, "\" (fashion_mnist, cifar10 or gtsrb)"));
}

absl::StatusOr<DatasetManifest> RunDownloadStage(const SourceManifest& sources,
                                                 const StageOptions& options) {
  if (options.out_dir.empty()) {
    return absl::InvalidArgumentError("no output folder given");
  }
  RETURN_IF_ERROR(CheckExtractLimits(options.extract_limits));
  if (options.validation_fraction >= 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validation fraction must be in [0, 1), or negative for the data "
        "set's default (got ",
        options.validation_fraction, ")"));
  }
  if (options.fetch.download.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("retries (download attempts per URL) must be at least 1 "
                     "(got ",
                     options.fetch.download.max_attempts, ")"));
  }
  ASSIGN_OR_RETURN(const SourceSet* set,
                   FindSourceSet(sources, options.dataset, options.source_set));
  FetchOptions fetch = options.fetch;
  if (fetch.download_dir.empty()) {
    fetch.download_dir = (fs::path(options.out_dir) / "downloads").string();
  }
  // Every source is verified before anything is extracted or written.
  VerifiedSources verified;
  std::vector<SourceFile> recorded;
  for (const PinnedFile& pin : set->files()) {
    LOG(INFO) << "fetching " << pin.name();
    ASSIGN_OR_RETURN(FetchedFile file, FetchVerified(pin, fetch));
    RETURN_IF_ERROR(CheckUtf8(file.location, pin.name() + " location"));
    SourceFile& source = recorded.emplace_back();
    source.set_name(pin.name());
    source.set_location(file.location);
    source.set_sha256(file.sha256);
    source.set_md5(file.md5);
    source.set_size_bytes(file.size_bytes);
    verified[pin.name()] = VerifiedSource{pin, std::move(file)};
  }
  const std::string work_dir =
      (fs::path(options.out_dir) / "extracted").string();
  LOG(INFO) << "converting " << DatasetName_Name(options.dataset);
  auto converted =
      Convert(options.dataset, verified, work_dir, options.extract_limits);
  std::error_code ignored;
  fs::remove_all(work_dir, ignored);
  if (!converted.ok()) return converted.status();

  return SplitAndPack(*converted, options.out_dir, options.validation_fraction,
                      options.split_seed, recorded);
}

absl::StatusOr<ImportResult> RunImportStage(const ImportOptions& options) {
  if (options.from.empty() || options.out_dir.empty()) {
    return absl::InvalidArgumentError(
        "an input and an output folder are "
        "required");
  }
  RETURN_IF_ERROR(CheckExtractLimits(options.extract_limits));
  // The folder is recorded as the store's source location.
  RETURN_IF_ERROR(CheckUtf8(options.from, "--from folder"));
  std::error_code error;
  if (!fs::is_directory(options.from, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.from, ": not a folder"));
  }
  ImportResult result;
  if (options.layout == "image_folder") {
    ASSIGN_OR_RETURN(ImportedImages imported,
                     ImportImageFolder(options.from, options.image_folder));
    result.skipped = imported.skipped;
    const ImageSet& train = imported.data.train;
    if (imported.given_validation == 0) {
      ASSIGN_OR_RETURN(result.manifest,
                       SplitAndPack(imported.data, options.out_dir,
                                    options.validation_fraction,
                                    options.split_seed, imported.sources));
      return result;
    }
    // The folder's own validation images are the last of `train`.
    SplitIndices split;
    const int64_t first = train.size() - imported.given_validation;
    for (int64_t i = 0; i < train.size(); ++i) {
      (i < first ? split.train : split.validation).push_back(i);
    }
    SplitRule rule;
    rule.set_method("given_folder");
    rule.set_validation_fraction(
        static_cast<double>(imported.given_validation) /
        static_cast<double>(train.size()));
    ASSIGN_OR_RETURN(result.manifest,
                     WriteStore(options.out_dir, imported.data, split, rule,
                                imported.sources));
    return result;
  }
  absl::StatusOr<ConvertedDataset> converted;
  const std::string work_dir =
      (fs::path(options.out_dir) / "extracted").string();
  if (options.layout == "gtsrb") {
    converted =
        ConvertGtsrbFolder(options.from, work_dir, options.extract_limits);
  } else if (options.layout == "cifar10") {
    converted = ConvertCifar10Folder(options.from, options.from);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("layout \"", options.layout,
                     "\": unknown (image_folder, gtsrb or cifar10)"));
  }
  fs::remove_all(work_dir, error);
  if (!converted.ok()) return converted.status();
  // Pinned like a download: the digest of everything the folder holds.
  ASSIGN_OR_RETURN(SourceFile source,
                   DigestTree(options.layout + " folder", options.from));
  ASSIGN_OR_RETURN(result.manifest, SplitAndPack(*converted, options.out_dir,
                                                 options.validation_fraction,
                                                 options.split_seed, {source}));
  return result;
}

std::string DescribeSplits(const DatasetManifest& manifest) {
  std::string lines;
  for (const Split& split : manifest.splits()) {
    absl::StrAppendFormat(&lines, "%-10s %7d images\n", split.name(),
                          split.num_images());
  }
  return lines;
}

}  // namespace vit_moe::data
