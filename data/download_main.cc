// //data:download - fetches, verifies and packs one data set into a store.
#include <glog/logging.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/run_folder.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/stage.h"
#include "data/user_path.h"

ABSL_FLAG(std::string, dataset, "", "fashion_mnist, cifar10 or gtsrb.");
ABSL_FLAG(std::string, out_dir, "",
          "Folder for manifest.pb and the store files (created).");
ABSL_FLAG(std::string, source_set, "",
          "Source set of the pinned manifest, e.g. \"debian\" or \"upstream\" "
          "for Fashion-MNIST; empty = the first listed for the data set.");
ABSL_FLAG(std::string, sources, "",
          "Pinned source manifest (text SourceManifest); empty = the "
          "data/sources.textproto built into this binary.");
ABSL_FLAG(std::string, mirror, "",
          "Folder holding the source files under their pinned names; "
          "replaces the pinned URLs.");
ABSL_FLAG(std::vector<std::string>, location, {},
          "Comma-separated NAME=URL_OR_PATH overrides for single source "
          "files (http, https, file URLs or local paths).");
ABSL_FLAG(
    std::string, download_dir, "",
    "Where downloads are kept (and resumed); default <out_dir>/downloads.");
ABSL_FLAG(double, validation_fraction, -1.0,
          "Share of the official training set held out for validation; "
          "negative = data set default (Fashion-MNIST 1/12, others 0.1).");
ABSL_FLAG(uint64_t, split_seed, 0, "Seed of the validation split.");
ABSL_FLAG(int, retries, 5, "Download attempts per URL.");
ABSL_FLAG(int64_t, max_extract_bytes, int64_t{4} << 30,
          "Cap on the bytes one archive may extract to.");
ABSL_FLAG(int64_t, max_extract_entries, 200000,
          "Cap on the entries one archive may hold.");

namespace vit_moe::data {
namespace {

absl::Status Run() {
  StageOptions options;
  ASSIGN_OR_RETURN(options.dataset,
                   ParseDatasetName(absl::GetFlag(FLAGS_dataset)));
  options.out_dir = ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  if (options.out_dir.empty()) {
    return absl::InvalidArgumentError("--out_dir is required");
  }
  options.source_set = absl::GetFlag(FLAGS_source_set);
  options.fetch.mirror_dir = ResolveUserPath(absl::GetFlag(FLAGS_mirror));
  options.fetch.download_dir =
      ResolveUserPath(absl::GetFlag(FLAGS_download_dir));
  for (const std::string& entry : absl::GetFlag(FLAGS_location)) {
    std::vector<std::string> parts =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--location: \"", entry, "\" is not NAME=LOCATION"));
    }
    bool is_url = parts[1].find("://") != std::string::npos;
    options.fetch.locations[parts[0]] =
        is_url ? parts[1] : ResolveUserPath(parts[1]);
  }
  options.fetch.download.max_attempts = absl::GetFlag(FLAGS_retries);
  options.validation_fraction = absl::GetFlag(FLAGS_validation_fraction);
  options.split_seed = absl::GetFlag(FLAGS_split_seed);
  options.extract_limits.max_total_bytes =
      absl::GetFlag(FLAGS_max_extract_bytes);
  options.extract_limits.max_entries = absl::GetFlag(FLAGS_max_extract_entries);
  const std::string sources_path =
      ResolveUserPath(absl::GetFlag(FLAGS_sources));
  StageFiles inputs;
  inputs.AddInput("--sources", sources_path);
  inputs.AddInput("--mirror", options.fetch.mirror_dir);
  for (const auto& [name, location] : options.fetch.locations) {
    if (location.find("://") == std::string::npos) {
      inputs.AddInput(absl::StrCat("--location ", name), location);
    }
  }
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir", options.out_dir));
  RETURN_IF_ERROR(
      inputs.CheckOutput("--download_dir", options.fetch.download_dir));
  ASSIGN_OR_RETURN(SourceManifest sources, LoadSourceManifest(sources_path));
  // Held until the store is written. A download picks up its own
  // interrupted downloads; a folder holding anything else (a store) is
  // refused rather than overwritten.
  RunFolderRules rules;
  rules.may_hold = {"downloads", "extracted"};
  rules.remedy = "choose a new or empty --out_dir";
  ASSIGN_OR_RETURN(const std::unique_ptr<RunFolder> folder,
                   RunFolder::Claim("--out_dir", options.out_dir, rules));
  ASSIGN_OR_RETURN(DatasetManifest manifest,
                   RunDownloadStage(sources, options));
  std::fputs(DescribeSplits(manifest).c_str(), stdout);
  std::printf("wrote %s/manifest.pb\n", options.out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::data

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Fetches a data set's pinned sources, verifies their digests, extracts "
      "and packs them into a store.\n"
      "  bazel run //data:download -- --dataset=fashion_mnist "
      "--out_dir=stores/fashion_mnist",
      vit_moe::data::Run);
}
