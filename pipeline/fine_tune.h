// Fine-tuning's start (TrainConfig.fine_tune): the architecture comes from
// the model file it loads, the file's weights replace the fresh ones (all
// but a head trained for another class count), and the chosen parts are
// frozen: no gradient, so no update, decay or share of the gradient norm.
#ifndef VIT_MOE_PIPELINE_FINE_TUNE_H_
#define VIT_MOE_PIPELINE_FINE_TUNE_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/model_config.pb.h"
#include "model/vit_moe.h"
#include "pipeline/train_config.pb.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

// The model section of a fine-tuning run before the dataset fills it: the
// init_from file's config, with num_classes cleared and the fields `config`
// sets in its own model section over it. A model.preset other than the
// file's is refused (it would name an architecture the run does not have).
// Records the file's class count in `record`.
absl::StatusOr<model::ModelConfig> FineTuneModelConfig(
    const TrainConfig& config, FineTuneRecord* record);

// Loads the init_from weights into `model` (built from the resolved config)
// and freezes what `config` asks. The head keeps its fresh initialisation
// when record->init_classes differs from the model's class count. Fills the
// rest of `record`.
absl::Status StartFineTune(const FineTuneConfig& config, model::ViTMoE& model,
                           FineTuneRecord* record);

// One line for the training log: what was loaded, re-initialised, frozen.
std::string DescribeFineTune(const FineTuneConfig& config,
                             const FineTuneRecord& record, int classes);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_FINE_TUNE_H_
