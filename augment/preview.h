// The preview grid of //augment:preview: one row per sample, the original
// in the first column, then `versions` augmented versions. Version v is
// what training would feed in epoch (epoch + v): the per-sample ops, random
// erasing and CutMix/MixUp of the resolved policy, in training's order.
#ifndef VIT_MOE_AUGMENT_PREVIEW_H_
#define VIT_MOE_AUGMENT_PREVIEW_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "augment/augmenter.h"

namespace vit_moe::augment {

struct PreviewOptions {
  int versions = 6;   // augmented columns
  uint64_t seed = 0;  // as TrainConfig's seed
  int64_t epoch = 0;  // epoch of the first augmented column
  int scale = 4;      // nearest-neighbour magnification of every cell
  // Per-channel normalisation around random erasing (pixel/255 scale), so
  // erased pixels, set to 0, show as this mean colour. Empty: 0.5.
  std::vector<double> mean;
  std::vector<double> std;
};

// images: [B, C, H, W] uint8 (C = 1 or 3); indices: [B] int64 split
// indices. Returns the grid as [rows, columns, C] uint8, C in RGB order,
// cells separated by dark grey lines.
torch::Tensor BuildPreviewGrid(const Augmenter& augmenter,
                               const torch::Tensor& images,
                               const torch::Tensor& indices,
                               const PreviewOptions& options);

// Writes a [rows, columns, C] uint8 RGB or grey image as PNG, atomically.
absl::Status WritePng(const std::string& path, const torch::Tensor& image);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_PREVIEW_H_
