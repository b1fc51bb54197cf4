// //augment:preview - writes a PNG grid of original images and augmented
// versions of each, to check by eye what a policy does to a data set.
#include <torch/torch.h>

#include <cstdlib>
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
#include "common/proto_io.h"
#include "common/startup.h"

ABSL_FLAG(std::string, idx_images, "",
          "Fashion-MNIST IDX image file (.gz or plain), e.g. "
          "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz. "
          "Empty: a built-in synthetic pattern.");
ABSL_FLAG(std::string, dataset, "fashion_mnist",
          "fashion_mnist | cifar10 | gtsrb: picks the flip policy.");
ABSL_FLAG(std::string, policy, "seed",
          "Augmentation preset: seed | light | none.");
ABSL_FLAG(std::string, augment_config, "",
          "Optional AugmentConfig text proto whose set fields override the "
          "preset (its own preset field, if set, wins over --policy).");
ABSL_FLAG(int, first, 0, "Index of the first image shown.");
ABSL_FLAG(int, count, 8, "Images shown (rows of the grid), 1..64.");
ABSL_FLAG(int, versions, 6,
          "Augmented versions of each image (columns), 0..32.");
ABSL_FLAG(uint64_t, seed, 0, "Seed, as TrainConfig's.");
ABSL_FLAG(int64_t, epoch, 0, "Epoch of the first augmented column.");
ABSL_FLAG(int, scale, 4, "Magnification of every cell.");
ABSL_FLAG(std::string, out, "grid.png", "Output PNG path.");

namespace vit_moe::augment {
namespace {

constexpr char kUsage[] =
    "Writes a PNG grid: each row one image, the original first, then "
    "--versions augmented versions (epochs --epoch, --epoch+1, ...).\n"
    "  bazel run //augment:preview -- "
    "--idx_images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz "
    "--policy=seed --out=grid.png";

// `bazel run` starts programs in their runfiles folder; paths the user
// typed are relative to where they typed them.
std::string UserPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

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
  const std::string path = UserPath(absl::GetFlag(FLAGS_augment_config));
  if (!path.empty()) {
    absl::Status status = ReadTextProto(path, &config);
    if (!status.ok()) return status;
  }
  if (config.preset().empty()) config.set_preset(absl::GetFlag(FLAGS_policy));
  return config;
}

absl::StatusOr<torch::Tensor> LoadImages() {
  const std::string idx = UserPath(absl::GetFlag(FLAGS_idx_images));
  const int64_t first = absl::GetFlag(FLAGS_first);
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (first < 0 || count < 1 || count > 64) {
    return absl::InvalidArgumentError(
        "--first must be >= 0 and --count within 1..64");
  }
  torch::Tensor all;
  if (idx.empty()) {
    all = PatternImages(first + count);
  } else {
    absl::StatusOr<torch::Tensor> images = ReadIdxImages(idx);
    if (!images.ok()) return images.status();
    all = *std::move(images);
  }
  if (first + count > all.size(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--first + --count = ", first + count, " exceeds the ",
                     all.size(0), " images of the source"));
  }
  return all.slice(0, first, first + count);  // [count, C, H, W]
}

absl::Status Run() {
  if (absl::GetFlag(FLAGS_versions) < 0 || absl::GetFlag(FLAGS_versions) > 32 ||
      absl::GetFlag(FLAGS_scale) < 1 || absl::GetFlag(FLAGS_scale) > 16) {
    return absl::InvalidArgumentError(
        "--versions must be within 0..32 and --scale within 1..16");
  }
  absl::StatusOr<data::DatasetName> dataset =
      ParseDataset(absl::GetFlag(FLAGS_dataset));
  if (!dataset.ok()) return dataset.status();
  absl::StatusOr<AugmentConfig> config = LoadConfig();
  if (!config.ok()) return config.status();
  absl::StatusOr<Augmenter> augmenter = Augmenter::Create(*config, *dataset);
  if (!augmenter.ok()) return augmenter.status();
  absl::StatusOr<torch::Tensor> images = LoadImages();
  if (!images.ok()) return images.status();

  PreviewOptions options;
  options.versions = absl::GetFlag(FLAGS_versions);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.epoch = absl::GetFlag(FLAGS_epoch);
  options.scale = absl::GetFlag(FLAGS_scale);
  const int64_t first = absl::GetFlag(FLAGS_first);
  torch::Tensor indices =
      torch::arange(first, first + images->size(0), torch::kInt64);
  torch::Tensor grid = BuildPreviewGrid(*augmenter, *images, indices, options);
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  absl::Status status = WritePng(out, grid);
  if (!status.ok()) return status;
  std::cout << "wrote " << out << " (" << grid.size(1) << "x" << grid.size(0)
            << ", policy " << augmenter->resolved().preset() << ": "
            << augmenter->resolved().ShortDebugString() << ")\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::augment

int main(int argc, char** argv) {
  vit_moe::InitStage(argc, argv, vit_moe::augment::kUsage);
  absl::Status status = vit_moe::augment::Run();
  return status.ok() ? 0 : vit_moe::ReportError(status);
}
