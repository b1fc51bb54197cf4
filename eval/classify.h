// The one classification loop over a data::BatchLoader, shared by
// training's validation and //eval:evaluate: the model in eval mode without
// gradients, each batch moved to the device (asynchronously from pinned
// memory) and run under the precision's autocast. The loader's transform
// (augment/batch_transforms.h) has normalised the images.
#ifndef VIT_MOE_EVAL_CLASSIFY_H_
#define VIT_MOE_EVAL_CLASSIFY_H_

#include <torch/torch.h>

#include <functional>

#include "data/loader.h"
#include "model/precision.h"
#include "model/vit_moe.h"

namespace vit_moe::eval {

// Called once per non-empty batch, in loader order, with the batch's
// labels on `device` and the model's output, logits in float32 on `device`.
using ConsumeOutput =
    std::function<void(const data::Batch& batch, const torch::Tensor& labels,
                       const model::ModelOutput& output)>;

// The model is back in the mode it was in afterwards.
void ClassifyBatches(model::ViTMoE& model, data::BatchLoader& loader,
                     const torch::Device& device,
                     const model::PrecisionChoice& precision,
                     const ConsumeOutput& consume);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_CLASSIFY_H_
