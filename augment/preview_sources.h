// Image sources of //augment:preview: a split of a packed DatasetStore
// (//data:download), or a built-in synthetic pattern that needs no data.
#ifndef VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_
#define VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset.pb.h"

namespace vit_moe::augment {

struct PreviewImages {
  torch::Tensor images;   // [B, C, H, W] uint8
  torch::Tensor indices;  // [B] int64, index of each image in its split
  data::DatasetName dataset = data::DATASET_NAME_UNSPECIFIED;
};

// Images first .. first + count - 1 of a store's split. Errors name the
// manifest (from DatasetStore::Open) or the out-of-range request.
absl::StatusOr<PreviewImages> LoadStoreImages(const std::string& manifest_path,
                                              const std::string& split,
                                              int64_t first, int64_t count);

// Images first .. first + count - 1 of an endless row of 32x32 RGB images
// of asymmetric glyphs on coloured backgrounds, so flips, rotations and
// shears are easy to see: [count, 3, 32, 32] uint8. Only the `count` asked
// for are drawn, whatever `first` is.
torch::Tensor PatternImages(int64_t count, int64_t first = 0);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_
