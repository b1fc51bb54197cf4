#include "augment/batch_transforms.h"

#include <utility>

namespace vit_moe::augment {
namespace {

data::Batch Pinned(data::Batch batch) {
  batch.images = batch.images.pin_memory();
  batch.labels = batch.labels.pin_memory();
  return batch;
}

}  // namespace

BatchTransform TrainingTransform(const Augmenter& augmenter,
                                 const data::Normalization& norm, uint64_t seed,
                                 int64_t epoch, bool pin_memory) {
  return [&augmenter, &norm, seed, epoch, pin_memory](data::Batch batch) {
    if (augmenter.has_image_ops()) {
      batch.images =
          augmenter.AugmentImages(batch.images, batch.indices, seed, epoch);
    }
    batch.images = data::NormalizeImages(batch.images, norm);
    batch.images =
        augmenter.EraseImages(batch.images, batch.indices, seed, epoch);
    return pin_memory ? Pinned(std::move(batch)) : batch;
  };
}

BatchTransform EvaluationTransform(const data::Normalization& norm,
                                   bool pin_memory, BatchTransform before) {
  return [&norm, pin_memory, before = std::move(before)](data::Batch batch) {
    if (before) batch = before(std::move(batch));
    batch.images = data::NormalizeImages(batch.images, norm);
    return pin_memory ? Pinned(std::move(batch)) : batch;
  };
}

}  // namespace vit_moe::augment
