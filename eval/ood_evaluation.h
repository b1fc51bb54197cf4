// Out-of-distribution detection for //eval:evaluate: every score of
// eval/ood_scores.h on the evaluated split (in-distribution, the positive
// class) against each source (eval/ood_sources.h, and the split of another
// store when one is named), with the metrics of eval/ood_metrics.h, the
// validation-fixed acceptance thresholds and the figures' histograms and
// ROC curves. What a deployed system would see is the rejection rate: the
// threshold is fixed on the validation split alone, never on OOD data.
#ifndef VIT_MOE_EVAL_OOD_EVALUATION_H_
#define VIT_MOE_EVAL_OOD_EVALUATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "data/store.h"
#include "eval/evaluation.pb.h"
#include "eval/split_outputs.h"
#include "model/model_config.pb.h"

namespace vit_moe::eval {

struct OodOptions {
  // Images per source: the first N of the evaluated split (transformed
  // sources) or of the other store's split; N noise images. 0 = skip OOD.
  int64_t images = 2000;
  // Training images the feature-space scores are fitted on: a subset of
  // the "train" split drawn with `seed` (all when it has fewer).
  int64_t fit_images = 10000;
  int knn_k = 50;
  uint64_t seed = 0;
  // Another store scored as a source (its split `split`); empty = none.
  std::string manifest_path;
  std::string split = "test";
};

// Refuses an OOD store whose images are not the model's size and channel
// count (InvalidArgument naming the file and both shapes), or that lacks
// the split (NotFound).
absl::Status CheckOodStore(const data::DatasetStore& ood,
                           const OodOptions& options,
                           const model::ModelConfig& config);

// `evaluated`: the outputs of `evaluated_split` (in that order);
// `validation`: those of the threshold split, or null without one.
// `ood_store` is the store of options.manifest_path, or null.
absl::StatusOr<OodDetection> MeasureOod(
    EvaluationContext& ctx, const data::DatasetStore& store,
    const data::SplitData& evaluated_split, const SplitOutputs& evaluated,
    const data::SplitData* validation_split, const SplitOutputs* validation,
    const data::DatasetStore* ood_store, const OodOptions& options);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_OOD_EVALUATION_H_
