#include "eval/split_outputs.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "augment/batch_transforms.h"
#include "common/startup.h"
#include "eval/classify.h"

namespace vit_moe::eval {

SplitOutputs RunSplit(EvaluationContext& ctx, const data::SplitData& split,
                      int64_t limit,
                      std::function<data::Batch(data::Batch)> transform,
                      UtilisationCounter* counter) {
  data::LoaderOptions lo;
  lo.batch_size = ctx.batch_size;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.limit_images = limit;
  lo.prefetch_batches = data::PrefetchBatchesFor(
      ctx.device.is_cuda(), torch::get_num_threads(), CoreCount());
  data::BatchLoader loader(
      split, lo, /*epoch=*/0,
      augment::EvaluationTransform(ctx.norm, ctx.device.is_cuda(),
                                   std::move(transform)));
  std::vector<torch::Tensor> logits, features, entropy;
  ClassifyBatches(
      ctx.model, loader, ctx.device, ctx.precision,
      [&](const data::Batch& batch, const torch::Tensor&,
          const model::ModelOutput& output) {
        logits.push_back(output.logits.to(torch::kCPU));
        features.push_back(output.features.to(torch::kCPU, torch::kFloat32));
        if (!output.diagnostics.empty()) {
          std::vector<torch::Tensor> layers;
          for (const model::MoeDiagnostics& d : output.diagnostics) {
            layers.push_back(d.image_router_entropy);
          }
          entropy.push_back(torch::stack(layers).mean(0).to(torch::kCPU));
        }
        if (counter != nullptr) {
          counter->Add(output.top_experts, batch.labels);
        }
      });
  SplitOutputs out;
  out.logits = torch::cat(logits, 0);
  out.features = torch::cat(features, 0);
  if (!entropy.empty()) out.router_entropy = torch::cat(entropy, 0);
  return out;
}

torch::Tensor FirstLabels(const data::SplitData& split, int64_t limit) {
  const int64_t n = split.labels.size(0);
  return split.labels.slice(0, 0, limit > 0 ? std::min(limit, n) : n);
}

}  // namespace vit_moe::eval
