#include "data/stage.h"

#include <glog/logging.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "data/cifar10.h"
#include "data/fashion_mnist.h"
#include "data/gtsrb.h"
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

  SplitRule rule;
  rule.set_method(options.dataset == GTSRB ? "by_track_stratified_per_class"
                                           : "stratified_per_class");
  rule.set_validation_fraction(options.validation_fraction < 0
                                   ? DefaultValidationFraction(options.dataset)
                                   : options.validation_fraction);
  rule.set_seed(options.split_seed);
  ASSIGN_OR_RETURN(
      SplitIndices split,
      SplitTrainValidation(converted->train,
                           static_cast<int>(converted->class_names.size()),
                           rule.validation_fraction(), rule.seed()));
  LOG(INFO) << "packing " << split.train.size() << " train, "
            << split.validation.size() << " validation, "
            << converted->test.size() << " test images into "
            << options.out_dir;
  return WriteStore(options.out_dir, *converted, split, rule, recorded);
}

}  // namespace vit_moe::data
