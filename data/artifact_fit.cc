#include "data/artifact_fit.h"

#include "absl/strings/str_cat.h"

namespace vit_moe::data {

absl::Status DoNotBelong(const Artifact& a, const Artifact& b,
                         absl::string_view detail) {
  return absl::FailedPreconditionError(
      absl::StrCat(a.what, "=", a.path, " does not belong with ", b.what, "=",
                   b.path, ": ", detail));
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
  return CheckNormalizationChannels(norm, norm_file, manifest.channels(),
                                    manifest_file);
}

absl::Status CheckNormalizationChannels(const Normalization& norm,
                                        const Artifact& norm_file, int channels,
                                        const Artifact& other) {
  if (norm.mean_size() == channels && norm.std_size() == channels) {
    return absl::OkStatus();
  }
  return DoNotBelong(
      norm_file, other,
      absl::StrCat(norm.mean_size(), " mean(s) and ", norm.std_size(),
                   " std(s) for ", channels, "-channel images"));
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
