// //data:import - packs a data set the user already has into a store, the
// way //data:download packs published archives: a class-per-folder image
// set (data/image_folder.h), GTSRB extracted or zipped (as published or in
// the seed's layout), or an extracted CIFAR-10.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/run_folder.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/stage.h"
#include "data/user_path.h"

ABSL_FLAG(std::string, layout, "image_folder",
          "Layout of --from: image_folder (ROOT/<split>/<class>/<image>), "
          "gtsrb (Final_Training/Images + Final_Test/Images + "
          "GT-final_test.csv, the seed's Training/ + Test/, or zips of "
          "them) or cifar10 (an extracted cifar-10-batches-bin/).");
ABSL_FLAG(std::string, from, "", "The folder to import (required).");
ABSL_FLAG(std::string, out_dir, "",
          "Folder for manifest.pb and the store files (created; must lie "
          "outside --from).");
ABSL_FLAG(int, side, 32,
          "image_folder: canonical image side in pixels; "
          "every image is stretched to side x side.");
ABSL_FLAG(int, channels, 3,
          "image_folder: 1 (grey) or 3 (RGB); every image must have it.");
ABSL_FLAG(double, validation_fraction, -1.0,
          "Share of the training images held out for validation (whole "
          "tracks for GTSRB); negative = 0.1. image_folder: only where the "
          "folder has no validation/.");
ABSL_FLAG(uint64_t, split_seed, 0, "Seed of that validation split.");
ABSL_FLAG(int64_t, max_extract_bytes, int64_t{4} << 30,
          "gtsrb zips: cap on the bytes one archive may extract to.");
ABSL_FLAG(int64_t, max_extract_entries, 200000,
          "gtsrb zips: cap on the entries one archive may hold.");

namespace vit_moe::data {
namespace {

absl::Status Run() {
  ImportOptions options;
  options.layout = absl::GetFlag(FLAGS_layout);
  options.from = ResolveUserPath(absl::GetFlag(FLAGS_from));
  options.out_dir = ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  if (options.from.empty() || options.out_dir.empty()) {
    return absl::InvalidArgumentError("--from and --out_dir are required");
  }
  StageFiles inputs;
  inputs.AddInput("--from", options.from);
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir", options.out_dir));
  options.image_folder.side = absl::GetFlag(FLAGS_side);
  options.image_folder.channels = absl::GetFlag(FLAGS_channels);
  options.validation_fraction = absl::GetFlag(FLAGS_validation_fraction);
  options.split_seed = absl::GetFlag(FLAGS_split_seed);
  if (options.validation_fraction >= 1 || options.validation_fraction == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--validation_fraction must lie in (0, 1), or be "
                     "negative for the default (got ",
                     options.validation_fraction, ")"));
  }
  options.extract_limits.max_total_bytes =
      absl::GetFlag(FLAGS_max_extract_bytes);
  options.extract_limits.max_entries = absl::GetFlag(FLAGS_max_extract_entries);
  // Held until the store is written: one import per folder, into a new
  // or empty one.
  ASSIGN_OR_RETURN(const std::unique_ptr<RunFolder> folder,
                   RunFolder::Claim("--out_dir", options.out_dir));
  ASSIGN_OR_RETURN(ImportResult result, RunImportStage(options));
  const DatasetManifest& manifest = result.manifest;
  if (result.skipped.count > 0) {
    std::printf(
        "skipped %lld file(s) and folder(s) that are not images (the first: "
        "%s)\n",
        static_cast<long long>(result.skipped.count),
        result.skipped.first.c_str());
  }
  std::fputs(DescribeSplits(manifest).c_str(), stdout);
  std::printf("%d classes, %dx%dx%d (%s); wrote %s/manifest.pb\n",
              manifest.class_names_size(), manifest.height(), manifest.width(),
              manifest.channels(), manifest.resize_method().c_str(),
              options.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::data

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Packs a folder of images into a store (classes from folder names).\n"
      "  bazel run //data:import -- --from=/data/signs "
      "--out_dir=stores/signs --side=32 --channels=3\n"
      "The folder holds train/<class>/<images>, optionally validation/ and "
      "test/ alike.",
      vit_moe::data::Run);
}
