// Image sources of //augment:preview other than a DatasetStore: Fashion-MNIST
// IDX files read directly (Debian's dataset-fashion-mnist ships them), and a
// built-in synthetic pattern that needs no data at all.
#ifndef VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_
#define VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace vit_moe::augment {

// Reads an IDX image file (magic 0x00000803; gzip-compressed or plain).
// Returns [N, 1, H, W] uint8. InvalidArgument / DataLoss name the path.
absl::StatusOr<torch::Tensor> ReadIdxImages(const std::string& path);

// `count` 32x32 RGB images of asymmetric glyphs on coloured backgrounds, so
// flips, rotations and shears are easy to see: [count, 3, 32, 32] uint8.
torch::Tensor PatternImages(int64_t count);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_PREVIEW_SOURCES_H_
