// //data:export_images - writes a store's splits as PNG files in the
// image_folder layout (data/image_folder.h):
// OUT/<split>/<NN_class>/<index>.png. Class folders are prefixed with their
// label, zero-padded, so that their byte order is the label order; files are
// named by their index in the split, so that an import restores the store's
// order. Importing the export gives a store with the same images and labels.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <system_error>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/run_folder.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/store.h"
#include "data/store_inputs.h"
#include "data/user_path.h"

ABSL_FLAG(std::string, manifest, "", "The store's manifest.pb (required).");
ABSL_FLAG(std::string, out_dir, "", "Folder for the images: new, or empty.");

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

// A class name as a folder name: path separators and control characters
// become '_'.
std::string FolderName(int label, int digits, const std::string& name) {
  std::string safe = name;
  for (char& c : safe) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 32) c = '_';
  }
  return absl::StrFormat("%0*d_%s", digits, label, safe);
}

absl::Status ExportSplit(const DatasetStore& store, const SplitData& split,
                         const fs::path& root) {
  const DatasetManifest& manifest = store.manifest();
  const int classes = manifest.class_names_size();
  const int digits = static_cast<int>(std::to_string(classes - 1).size());
  std::vector<fs::path> folders;
  for (int c = 0; c < classes; ++c) {
    folders.push_back(root / split.name /
                      FolderName(c, digits, manifest.class_names(c)));
    std::error_code error;
    fs::create_directories(folders.back(), error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrCat(
          folders.back().string(), ": cannot create: ", error.message()));
    }
  }
  const int64_t n = split.images.size(0);
  const int digits_n = std::max<int>(
      6, static_cast<int>(std::to_string(std::max<int64_t>(n - 1, 0)).size()));
  const int h = manifest.height(), w = manifest.width(),
            c = manifest.channels();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = split.labels[i].item<int64_t>();
    torch::Tensor pixels = split.images[i].contiguous();
    cv::Mat image(h, w, c == 3 ? CV_8UC3 : CV_8UC1, pixels.data_ptr<uint8_t>());
    cv::Mat out;
    if (c == 3) {
      cv::cvtColor(image, out, cv::COLOR_RGB2BGR);
    } else {
      out = image;
    }
    const fs::path file =
        folders[label] / absl::StrFormat("%0*d.png", digits_n, i);
    if (!cv::imwrite(file.string(), out)) {
      return absl::InternalError(absl::StrCat(file.string(), ": cannot write"));
    }
    if ((i + 1) % 10000 == 0) {
      std::printf("%s: %lld of %lld images written\n", split.name.c_str(),
                  static_cast<long long>(i + 1), static_cast<long long>(n));
      std::fflush(stdout);
    }
  }
  std::printf("%s: %lld images\n", split.name.c_str(),
              static_cast<long long>(n));
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string manifest_path =
      ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  const std::string out_dir = ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  if (manifest_path.empty() || out_dir.empty()) {
    return absl::InvalidArgumentError("--manifest and --out_dir are required");
  }
  StageFiles inputs;
  AddStoreInputs("--manifest", manifest_path, &inputs);
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir", out_dir));
  std::error_code error;
  if (fs::exists(out_dir, error) && !fs::is_empty(out_dir, error)) {
    return absl::AlreadyExistsError(absl::StrCat(
        out_dir, ": exists and is not empty; export into a new folder"));
  }
  // Written beside the destination and renamed onto it when complete, so
  // a failure leaves no half-exported folder under the requested name. The
  // staging folder is this run's alone: a second export into it is refused,
  // and a folder of that name this run did not make is never emptied.
  const std::string staging = out_dir + ".partial";
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir's staging folder", staging));
  RunFolderRules rules;
  rules.remedy =
      "a leftover of an interrupted export, or a folder of yours: remove or "
      "rename it, or choose another --out_dir";
  ASSIGN_OR_RETURN(
      std::unique_ptr<RunFolder> folder,
      RunFolder::Claim("--out_dir's staging folder", staging, rules));
  ASSIGN_OR_RETURN(DatasetStore store, DatasetStore::Open(manifest_path));
  for (const char* name : {"train", "validation", "test"}) {
    absl::StatusOr<const SplitData*> split = store.split(name);
    if (!split.ok() || (*split)->images.size(0) == 0) continue;
    absl::Status status = ExportSplit(store, **split, staging);
    if (!status.ok()) {
      folder.reset();
      fs::remove_all(staging, error);
      return status;
    }
  }
  // Given up first, so that its lock file does not move with the folder.
  folder.reset();
  fs::rename(staging, out_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot rename ", staging, " to ",
                                            out_dir, ": ", error.message()));
  }
  std::printf("wrote %s\n", out_dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::data

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Writes a store's images as PNG files, one folder per split and class "
      "(the layout //data:import reads).\n"
      "  bazel run //data:export_images -- "
      "--manifest=stores/fashion_mnist/manifest.pb --out_dir=/tmp/fm_png",
      vit_moe::data::Run);
}
