// The batch pipelines, written once for training, validation, evaluation,
// the preview and the benchmarks. They run on a data::BatchLoader's
// prefetch thread and draw only from (seed, epoch, image index), so the
// thread changes no result:
//   training:   per-image ops on uint8 -> normalization -> random erasing
//               (mixing needs the batch's labels and runs per step, after:
//               Augmenter::MixBatch)
//   evaluation: normalization only
// With `pin_memory` (CUDA) the batch is pinned, so the copy to the GPU is
// asynchronous and the next batch is prepared while one trains.
#ifndef VIT_MOE_AUGMENT_BATCH_TRANSFORMS_H_
#define VIT_MOE_AUGMENT_BATCH_TRANSFORMS_H_

#include <cstdint>
#include <functional>

#include "augment/augmenter.h"
#include "data/loader.h"
#include "data/normalization.h"

namespace vit_moe::augment {

using BatchTransform = std::function<data::Batch(data::Batch)>;

// `augmenter` and `norm` must outlive the transform.
BatchTransform TrainingTransform(const Augmenter& augmenter,
                                 const data::Normalization& norm, uint64_t seed,
                                 int64_t epoch, bool pin_memory);

// `norm` must outlive the transform. `before` (a corruption, say) runs on
// the uint8 images first when given.
BatchTransform EvaluationTransform(const data::Normalization& norm,
                                   bool pin_memory,
                                   BatchTransform before = nullptr);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_BATCH_TRANSFORMS_H_
