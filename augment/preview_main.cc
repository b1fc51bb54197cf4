// //augment:preview - writes a PNG grid of original images and augmented
// versions of each, to check by eye what a policy does to a data set.
#include <torch/torch.h>

#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "augment/augmenter.h"
#include "augment/preview.h"
#include "augment/preview_sources.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/artifact_fit.h"
#include "data/dataset.pb.h"
#include "data/normalization.h"
#include "data/store_inputs.h"
#include "data/user_path.h"

ABSL_FLAG(std::string, manifest, "",
          "DatasetManifest (manifest.pb) written by //data:download. Empty: "
          "a built-in synthetic pattern.");
ABSL_FLAG(std::string, split, "train", "Split of the store to show.");
ABSL_FLAG(std::string, normalization, "",
          "Optional normalization.pb from //data:normalize; erased areas "
          "then show the data set's mean colour (else mid grey).");
ABSL_FLAG(std::string, dataset, "cifar10",
          "For the built-in pattern only: fashion_mnist | cifar10 | gtsrb, "
          "which picks the flip policy. A store names its own data set.");
ABSL_FLAG(std::string, policy, "seed",
          "Augmentation preset: seed | light | none.");
ABSL_FLAG(std::string, augment_config, "",
          "Optional AugmentConfig text proto whose set fields override the "
          "preset (its own preset field, if set, wins over --policy).");
ABSL_FLAG(int, first, 0, "Index in the split of the first image shown.");
ABSL_FLAG(int, count, 8, "Images shown (rows of the grid), 1..64.");
ABSL_FLAG(int, versions, 6,
          "Augmented versions of each image (columns), 0..32.");
ABSL_FLAG(uint64_t, seed, 0, "Seed, as TrainConfig's.");
ABSL_FLAG(int64_t, epoch, 0, "Epoch of the first augmented column.");
ABSL_FLAG(int, scale, 4, "Magnification of every cell, 1..16.");
ABSL_FLAG(std::string, out, "grid.png", "Output PNG path.");

namespace vit_moe::augment {
namespace {

constexpr char kUsage[] =
    "Writes a PNG grid: each row one image, the original first, then "
    "--versions augmented versions (epochs --epoch, --epoch+1, ...).\n"
    "  bazel run //augment:preview -- "
    "--manifest=stores/fashion_mnist/manifest.pb --policy=seed "
    "--out=grid.png";

absl::StatusOr<data::DatasetName> ParseDataset(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  if (lower == "fashion_mnist") return data::FASHION_MNIST;
  if (lower == "cifar10") return data::CIFAR10;
  if (lower == "gtsrb") return data::GTSRB;
  return absl::InvalidArgumentError(
      absl::StrCat("--dataset: unknown \"", name,
                   "\"; use fashion_mnist, cifar10 or gtsrb"));
}

absl::StatusOr<AugmentConfig> LoadConfig() {
  AugmentConfig config;
  const std::string path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_augment_config));
  if (!path.empty()) {
    absl::Status status = ReadTextProto(path, &config);
    if (!status.ok()) return status;
  }
  if (config.preset().empty()) config.set_preset(absl::GetFlag(FLAGS_policy));
  return config;
}

absl::StatusOr<PreviewImages> LoadImages() {
  const int64_t first = absl::GetFlag(FLAGS_first);
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (first < 0 || count < 1 || count > 64) {
    return absl::InvalidArgumentError(
        "--first must be >= 0 and --count within 1..64");
  }
  const std::string manifest =
      data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  if (!manifest.empty()) {
    return LoadStoreImages(manifest, absl::GetFlag(FLAGS_split), first, count);
  }
  absl::StatusOr<data::DatasetName> dataset =
      ParseDataset(absl::GetFlag(FLAGS_dataset));
  if (!dataset.ok()) return dataset.status();
  PreviewImages pattern;
  pattern.images = PatternImages(count, first);
  pattern.indices = torch::arange(first, first + count, torch::kInt64);
  pattern.dataset = *dataset;
  return pattern;
}

// The normalization fits the images shown: computed for the store given,
// or of the built-in pattern's channel count.
absl::Status CheckNormalizationFits(const data::Normalization& norm,
                                    const std::string& norm_path,
                                    const std::string& manifest_path,
                                    int64_t channels) {
  const data::Artifact norm_file{"--normalization", norm_path};
  if (manifest_path.empty()) {
    return data::CheckNormalizationChannels(
        norm, norm_file, channels,
        {"the built-in pattern of --dataset", absl::GetFlag(FLAGS_dataset)});
  }
  data::DatasetManifest manifest;
  RETURN_IF_ERROR(ReadBinaryProto(manifest_path, &manifest));
  ASSIGN_OR_RETURN(const std::string manifest_sha256,
                   Sha256OfFile(manifest_path));
  return data::CheckNormalizationFitsStore(norm, norm_file, manifest,
                                           manifest_sha256,
                                           {"--manifest", manifest_path});
}

absl::Status Run() {
  const std::string out = data::ResolveUserPath(absl::GetFlag(FLAGS_out));
  const std::string manifest_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  const std::string normalization_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  StageFiles inputs;
  data::AddStoreInputs("--manifest", manifest_path, &inputs);
  inputs.AddInput("--normalization", normalization_path);
  inputs.AddInput("--augment_config",
                  data::ResolveUserPath(absl::GetFlag(FLAGS_augment_config)));
  RETURN_IF_ERROR(inputs.CheckOutput("--out", out));
  PreviewOptions options;
  options.versions = absl::GetFlag(FLAGS_versions);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.epoch = absl::GetFlag(FLAGS_epoch);
  options.scale = absl::GetFlag(FLAGS_scale);
  if (options.versions < 0 || options.versions > 32 || options.scale < 1 ||
      options.scale > 16) {
    return absl::InvalidArgumentError(
        "--versions must be within 0..32 and --scale within 1..16");
  }
  absl::StatusOr<AugmentConfig> config = LoadConfig();
  if (!config.ok()) return config.status();
  absl::StatusOr<PreviewImages> images = LoadImages();
  if (!images.ok()) return images.status();
  absl::StatusOr<Augmenter> augmenter =
      Augmenter::Create(*config, images->dataset);
  if (!augmenter.ok()) return augmenter.status();

  if (!normalization_path.empty()) {
    absl::StatusOr<data::Normalization> normalization =
        data::ReadNormalization(normalization_path);
    if (!normalization.ok()) return normalization.status();
    RETURN_IF_ERROR(CheckNormalizationFits(*normalization, normalization_path,
                                           manifest_path,
                                           images->images.size(1)));
    options.mean.assign(normalization->mean().begin(),
                        normalization->mean().end());
    options.std.assign(normalization->std().begin(),
                       normalization->std().end());
  }

  torch::Tensor grid =
      BuildPreviewGrid(*augmenter, images->images, images->indices, options);
  absl::Status status = WritePng(out, grid);
  if (!status.ok()) return status;
  std::cout << "wrote " << out << " (" << grid.size(1) << "x" << grid.size(0)
            << "): " << augmenter->resolved().ShortDebugString() << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::augment

int main(int argc, char** argv) {
  return vit_moe::RunStage(argc, argv, vit_moe::augment::kUsage,
                           vit_moe::augment::Run);
}
