#include "data/artifact_fit.h"

#include "absl/strings/str_cat.h"

namespace vit_moe::data {

absl::Status DoNotBelong(const Artifact& a, const Artifact& b,
                         absl::string_view detail) {
  return absl::FailedPreconditionError(absl::StrCat(a.what, "=", a.path,
                                                    " does not belong with ",
                                                    b.what, "=", b.path, ": ",
                                                    detail));
}

absl::Status CheckNormalizationFitsStore(const Normalization& norm,
                                         const Artifact& norm_file,
                                         const DatasetManifest& manifest,
                                         const std::string& manifest_sha256,
                                         const Artifact& manifest_file) {
  if (norm.manifest_sha256() != manifest_sha256) {
    return DoNotBelong(
        norm_file, manifest_file,
        absl::StrCat("computed for the manifest with SHA-256 ",
                     norm.manifest_sha256().empty() ? "(none recorded)"
                                                    : norm.manifest_sha256(),
                     ", this one has ", manifest_sha256,
                     "; run //data:normalize on this store"));
  }
  if (norm.mean_size() != manifest.channels() ||
      norm.std_size() != manifest.channels()) {
    return DoNotBelong(norm_file, manifest_file,
                       absl::StrCat(norm.mean_size(), " mean(s) and ",
                                    norm.std_size(), " std(s) for ",
                                    manifest.channels(), "-channel images"));
  }
  return absl::OkStatus();
}

absl::Status CheckNormalizationFitsModel(const Normalization& norm,
                                         const Artifact& norm_file,
                                         int model_channels,
                                         const Artifact& model_file) {
  if (norm.mean_size() == model_channels && norm.std_size() == model_channels) {
    return absl::OkStatus();
  }
  return DoNotBelong(
      norm_file, model_file,
      absl::StrCat(norm.mean_size(), " mean(s) and ", norm.std_size(),
                   " std(s), the model takes ", model_channels,
                   " channel(s)"));
}

absl::Status CheckModelFitsStore(int image_size, int in_channels,
                                 int num_classes, const Artifact& model_file,
                                 const DatasetManifest& manifest,
                                 const Artifact& manifest_file) {
  if (num_classes != manifest.class_names_size()) {
    return DoNotBelong(model_file, manifest_file,
                       absl::StrCat("the model has ", num_classes,
                                    " classes, the store lists ",
                                    manifest.class_names_size()));
  }
  if (image_size != manifest.height() || image_size != manifest.width() ||
      in_channels != manifest.channels()) {
    return DoNotBelong(
        model_file, manifest_file,
        absl::StrCat("the model takes ", image_size, "x", image_size, "x",
                     in_channels, " images, the store holds ",
                     manifest.height(), "x", manifest.width(), "x",
                     manifest.channels()));
  }
  return absl::OkStatus();
}

}  // namespace vit_moe::data
