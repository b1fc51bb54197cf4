// The training-time augmenter: per-sample uint8 ops, random erasing on the
// normalised batch, and CutMix/MixUp with soft targets.
//
// Reproducibility: sample i of a batch draws only from
// SampleRandom(seed, epoch, indices[i], stream), so its augmented pixels do
// not depend on thread count, batch size, batch order or rank; MixBatch
// draws from (seed, epoch, batch_index). Samples run in parallel with
// at::parallel_for over LibTorch's intra-op threads.
//
// Order within AugmentImages (the seed's order): RandAugment, pad + random
// crop, horizontal flip, colour jitter (brightness, contrast, saturation in
// a random order), rotation.
//
// Not here: resizing (the dataset store already holds the model's input
// size) and normalisation (data/normalization.h), which sits between
// AugmentImages and EraseImages.
#ifndef VIT_MOE_AUGMENT_AUGMENTER_H_
#define VIT_MOE_AUGMENT_AUGMENTER_H_

#include <torch/torch.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "augment/augment_config.pb.h"
#include "augment/image_ops.h"
#include "augment/sample_random.h"
#include "data/dataset.pb.h"

namespace vit_moe::augment {

struct MixedBatch {
  torch::Tensor images;   // [B, C, H, W] float
  torch::Tensor targets;  // [B, C_classes] float soft labels, rows sum to 1
};

class Augmenter {
 public:
  // Resolves config.preset + overrides; flips default off for GTSRB, on
  // otherwise. InvalidArgument names a bad field.
  static absl::StatusOr<Augmenter> Create(const AugmentConfig& config,
                                          data::DatasetName dataset);

  // Every optional field set; preset filled in.
  const AugmentConfig& resolved() const { return resolved_; }

  // True when AugmentImages changes pixels; false lets callers skip it.
  bool has_image_ops() const;

  // images: [B, C, H, W] uint8 with C = 1 or 3; indices: [B] int64, each
  // sample's index in its split. Returns a new [B, C, H, W] uint8 tensor.
  torch::Tensor AugmentImages(const torch::Tensor& images,
                              const torch::Tensor& indices, uint64_t seed,
                              int64_t epoch) const;

  // normalized: [B, C, H, W] float. Returns a copy where, with
  // erasing_probability, one rectangle per sample (area share within
  // [erasing_area_min, erasing_area_max], aspect ratio 0.3..3.3 as
  // torchvision) is set to 0, the data set's mean colour.
  torch::Tensor EraseImages(const torch::Tensor& normalized,
                            const torch::Tensor& indices, uint64_t seed,
                            int64_t epoch) const;

  // images: [B, C, H, W] float; labels: [B] int64 in [0, num_classes).
  // With cutmix_probability a batch gets CutMix, else with
  // mixup_probability MixUp, else nothing (one-hot targets). Sample i is
  // mixed with sample (i - 1) mod B, so one draw serves the whole batch.
  MixedBatch MixBatch(const torch::Tensor& images, const torch::Tensor& labels,
                      int64_t num_classes, uint64_t seed, int64_t epoch,
                      int64_t batch_index) const;

 private:
  explicit Augmenter(AugmentConfig resolved) : resolved_(std::move(resolved)) {}

  // The per-sample chain of AugmentImages on one image.
  void AugmentOne(Image& image, SampleRandom& random) const;

  AugmentConfig resolved_;
};

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_AUGMENTER_H_
