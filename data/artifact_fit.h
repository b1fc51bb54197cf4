// The checks that two artifacts a stage reads together belong together: a
// normalization with the store it was computed for, a model with the
// store's image shape and classes, a normalization with the model's
// channels. Every stage that reads such a pair calls these, so a pair that
// does not fit is refused in one message form before any work, and never
// reaches a CHECK or a LibTorch error:
//
//   A=PATH does not belong with B=PATH: <what differs>
#ifndef VIT_MOE_DATA_ARTIFACT_FIT_H_
#define VIT_MOE_DATA_ARTIFACT_FIT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "data/dataset.pb.h"
#include "data/normalization.pb.h"

namespace vit_moe::data {

// An artifact as the user gave it: the flag ("--normalization") or config
// field ("normalization") and the path.
struct Artifact {
  std::string what;
  std::string path;
};

// The one message form: FailedPrecondition "A=PATH does not belong with
// B=PATH: `detail`".
absl::Status DoNotBelong(const Artifact& a, const Artifact& b,
                         absl::string_view detail);

// The normalization was computed for this manifest (its recorded SHA-256
// is `manifest_sha256`, the digest of the manifest file's bytes) and has
// its channel count.
absl::Status CheckNormalizationFitsStore(const Normalization& norm,
                                         const Artifact& norm_file,
                                         const DatasetManifest& manifest,
                                         const std::string& manifest_sha256,
                                         const Artifact& manifest_file);

// The normalization has one mean and std for each of the `channels` of
// the images `other` (a model, the images shown) stands for.
absl::Status CheckNormalizationChannels(const Normalization& norm,
                                        const Artifact& norm_file, int channels,
                                        const Artifact& other);

// The model takes the store's images (side x side x channels) and has one
// output per class it lists.
absl::Status CheckModelFitsStore(int image_size, int in_channels,
                                 int num_classes, const Artifact& model_file,
                                 const DatasetManifest& manifest,
                                 const Artifact& manifest_file);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_ARTIFACT_FIT_H_
