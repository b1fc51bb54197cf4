#include "pipeline/fine_tune.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/checkpoint.h"

namespace vit_moe::pipeline {

absl::StatusOr<model::ModelConfig> FineTuneModelConfig(
    const TrainConfig& config, FineTuneRecord* record) {
  const std::string& path = config.fine_tune().init_from();
  ASSIGN_OR_RETURN(model::ModelConfig loaded, model::ReadModelConfig(path));
  const std::string& preset = config.model().preset();
  if (!preset.empty() && preset != loaded.preset()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.preset is \"", preset, "\" but fine_tune.init_from ", path,
        " holds a \"", loaded.preset(),
        "\" model, whose architecture this run takes: drop model.preset"));
  }
  record->set_init_classes(loaded.num_classes());
  loaded.clear_num_classes();
  loaded.MergeFrom(config.model());
  return loaded;
}

absl::Status StartFineTune(const FineTuneConfig& config, model::ViTMoE& model,
                           FineTuneRecord* record) {
  const int depth = model->config().depth();
  if (config.freeze_blocks() > depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("fine_tune.freeze_blocks is ", config.freeze_blocks(),
                     " but ", config.init_from(), " has ", depth, " blocks"));
  }
  record->set_head_reinitialized(record->init_classes() !=
                                 model->config().num_classes());
  RETURN_IF_ERROR(model::LoadWeightsInto(
      model, config.init_from(),
      record->head_reinitialized() ? model::kHeadPrefix : ""));
  for (auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const int block = model::BlockIndexOf(name);
    const bool frozen =
        (config.freeze_embedding() && model::IsEmbeddingParameter(name)) ||
        (block >= 0 && block < config.freeze_blocks());
    if (!frozen) continue;
    item.value().set_requires_grad(false);
    record->add_frozen_tensors(name);
    record->set_frozen_parameter_count(record->frozen_parameter_count() +
                                       item.value().numel());
  }
  return absl::OkStatus();
}

std::string DescribeFineTune(const FineTuneConfig& config,
                             const FineTuneRecord& record, int classes) {
  std::string text = absl::StrCat("fine-tuning from ", config.init_from());
  if (record.head_reinitialized()) {
    absl::StrAppend(&text, ": head re-initialised for ", classes,
                    " classes (the loaded model has ", record.init_classes(),
                    ")");
  } else {
    absl::StrAppend(&text, ": every tensor loaded, head included");
  }
  if (record.frozen_tensors_size() > 0) {
    std::vector<std::string> parts;
    if (config.freeze_embedding()) parts.push_back("embedding");
    if (config.freeze_blocks() == 1) parts.push_back("block 0");
    if (config.freeze_blocks() > 1) {
      parts.push_back(absl::StrCat("blocks 0-", config.freeze_blocks() - 1));
    }
    absl::StrAppend(&text, "; frozen: ", absl::StrJoin(parts, " + "), " (",
                    record.frozen_parameter_count(), " parameters)");
  }
  if (config.backbone_lr_scale() != 1) {
    absl::StrAppend(&text, absl::StrFormat("; backbone learning rate x %g",
                                           config.backbone_lr_scale()));
  }
  return text;
}

}  // namespace vit_moe::pipeline
