// A generic class-per-folder image set, ROOT/<split>/<class>/<file>, as
// torchvision's ImageFolder reads it, imported into a store:
//   - `train` is required; `validation` and `test` are optional. Without
//     `validation` the import stage (data/stage.h) splits validation off
//     train (stratified per class, seeded, data/split.h); without `test`
//     the store's test split is empty.
//   - Classes are train's sub-folders in byte order of their names; a
//     validation or test folder may only name classes train has.
//   - Images (.png .jpg .jpeg .ppm .pgm .bmp, any case) are decoded by
//     OpenCV, must have exactly the requested channel count (1 or 3; 8-bit),
//     and are stretched to side x side (INTER_AREA when shrinking,
//     INTER_LINEAR when enlarging; recorded as the store's resize_method).
//   - Within a split, images are stored in order of their file names across
//     all classes, so a file name may occur in one class only.
//   - Other files (README, .DS_Store, ...) and folders inside class folders
//     are skipped and counted, and the first one is named.
//   - At least 2 classes; class folder names must be UTF-8 (they become
//     text in the manifest).
//   - Each split folder is pinned as one SourceFile whose SHA-256 covers the
//     sorted listing and every file's content: a changed, added, removed or
//     renamed file changes it, and two imports of the same folder give
//     byte-identical stores.
// Errors name the file or folder: an empty class folder, an undecodable or
// oversized image, a wrong channel count, a symlink loop, a duplicate name.
#ifndef VIT_MOE_DATA_IMAGE_FOLDER_H_
#define VIT_MOE_DATA_IMAGE_FOLDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/converted.h"
#include "data/dataset.pb.h"
#include "data/image_file.h"

namespace vit_moe::data {

inline constexpr int kMaxImageFolderSide = 1024;

struct ImageFolderOptions {
  // Canonical side in pixels (1..kMaxImageFolderSide) and channels (1 or 3).
  int side = 0;
  int channels = 0;
};

// Entries left out: files without an image extension and folders below a
// class folder.
struct Skipped {
  int64_t count = 0;
  std::string first;  // path of the first one
};

struct ImportedImages {
  // train holds the training images followed by the `given_validation`
  // images of a validation folder (0 without one).
  ConvertedDataset data;
  int64_t given_validation = 0;
  // One per split folder read.
  std::vector<SourceFile> sources;
  Skipped skipped;
};

absl::StatusOr<ImportedImages> ImportImageFolder(
    const std::string& root, const ImageFolderOptions& options);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_IMAGE_FOLDER_H_
