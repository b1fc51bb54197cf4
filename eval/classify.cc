#include "eval/classify.h"

namespace vit_moe::eval {

void ClassifyBatches(model::ViTMoE& model, data::BatchLoader& loader,
                     const torch::Device& device,
                     const model::PrecisionChoice& precision,
                     const ConsumeOutput& consume) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  while (std::optional<data::Batch> batch = loader.Next()) {
    // A short last batch may leave a rank of a sharded loader nothing.
    if (batch->labels.size(0) == 0) continue;
    const torch::Tensor images =
        batch->images.to(device, /*non_blocking=*/true);  // [B, C, H, W]
    const torch::Tensor labels =
        batch->labels.to(device, /*non_blocking=*/true);  // [B]
    model::ModelOutput output;
    {
      model::AutocastScope autocast(precision, device);
      output = model->forward(images);
    }
    output.logits = output.logits.to(torch::kFloat32);  // [B, classes]
    consume(*batch, labels, output);
  }
  model->train(was_training);
}

}  // namespace vit_moe::eval
