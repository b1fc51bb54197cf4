#include "pipeline/training_setup.h"

#include <glog/logging.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/artifact_fit.h"
#include "data/normalization.h"
#include "model/config.h"
#include "pipeline/device.h"
#include "pipeline/fine_tune.h"

namespace vit_moe::pipeline {
namespace {

absl::StatusOr<InputDigest> DigestOf(const std::string& role,
                                     const std::string& path) {
  InputDigest digest;
  digest.set_role(role);
  digest.set_path(path);
  ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(path));
  digest.set_sha256(sha);
  return digest;
}

// Names every trainable parameter into AdamW's groups: decay and no decay,
// each split into backbone and head when their learning rates differ. A
// trainable parameter in neither of the model's decay lists, or in both,
// is a model bug.
std::vector<ParameterGroup> NameGroups(model::ViTMoE& model,
                                       double weight_decay,
                                       double backbone_lr_scale) {
  std::map<const void*, std::string> names;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    if (item.value().requires_grad()) {
      names[item.value().unsafeGetTensorImpl()] = item.key();
    }
  }
  const bool split_head = backbone_lr_scale != 1;
  std::vector<ParameterGroup> groups;
  auto add = [&](const std::vector<torch::Tensor>& params, double decay) {
    ParameterGroup backbone{{}, decay, split_head ? backbone_lr_scale : 1};
    ParameterGroup head{{}, decay, 1};
    for (const torch::Tensor& p : params) {
      if (!p.requires_grad()) continue;
      auto it = names.find(p.unsafeGetTensorImpl());
      CHECK(it != names.end()) << "parameter outside named_parameters() or "
                                  "listed twice in the AdamW groups";
      ParameterGroup& group =
          split_head && model::IsHeadParameter(it->second) ? head : backbone;
      group.parameters.emplace_back(it->second, p);
      names.erase(it);
    }
    for (ParameterGroup* group : {&backbone, &head}) {
      if (!group->parameters.empty()) groups.push_back(std::move(*group));
    }
  };
  add(model->decay_parameters(), weight_decay);
  add(model->no_decay_parameters(), 0);
  CHECK(names.empty()) << "parameter " << names.begin()->second
                       << " is in neither AdamW group";
  return groups;
}

}  // namespace

absl::Status FitModelToDataset(const data::DatasetManifest& manifest,
                               model::ModelConfig* model) {
  auto fit = [](const char* field, bool has, int32_t value, int32_t dataset,
                const std::string& what, auto setter) -> absl::Status {
    if (!has) {
      setter(dataset);
      return absl::OkStatus();
    }
    if (value != dataset) {
      return absl::InvalidArgumentError(
          absl::StrCat("model.", field, " is ", value, " but the dataset has ",
                       dataset, " ", what));
    }
    return absl::OkStatus();
  };
  if (manifest.height() != manifest.width()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the dataset's images are ", manifest.height(), "x",
                     manifest.width(), "; the model needs square images"));
  }
  RETURN_IF_ERROR(fit("num_classes", model->has_num_classes(),
                      model->num_classes(), manifest.class_names_size(),
                      "classes", [&](int v) { model->set_num_classes(v); }));
  RETURN_IF_ERROR(fit("image_size", model->has_image_size(),
                      model->image_size(), manifest.height(), "pixel images",
                      [&](int v) { model->set_image_size(v); }));
  RETURN_IF_ERROR(fit("in_channels", model->has_in_channels(),
                      model->in_channels(), manifest.channels(), "channels",
                      [&](int v) { model->set_in_channels(v); }));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TrainingSetup>> BuildTrainingSetup(
    const TrainConfig& config, const std::string& config_path,
    const std::string& config_source, int local_rank,
    const data::Artifact& manifest, const data::Artifact& normalization) {
  auto setup = std::make_unique<TrainingSetup>();
  setup->resolved = config;
  ASSIGN_OR_RETURN(setup->device, ResolveDevice(config.device(), local_rank));
  setup->threads = ConfigureThreads(config.threads());
  if (!config_path.empty()) {
    ASSIGN_OR_RETURN(InputDigest digest, DigestOf("config", config_path));
    setup->inputs.push_back(digest);
  }

  ASSIGN_OR_RETURN(setup->store, data::DatasetStore::Open(config.manifest()));
  InputDigest manifest_digest;
  manifest_digest.set_role("manifest");
  manifest_digest.set_path(config.manifest());
  manifest_digest.set_sha256(setup->store.manifest_sha256());
  setup->inputs.push_back(manifest_digest);

  ASSIGN_OR_RETURN(setup->normalization,
                   data::ReadNormalization(config.normalization()));
  ASSIGN_OR_RETURN(InputDigest norm_digest,
                   DigestOf("normalization", config.normalization()));
  setup->inputs.push_back(norm_digest);
  RETURN_IF_ERROR(data::CheckNormalizationFitsStore(
      setup->normalization, normalization, setup->store.manifest(),
      setup->store.manifest_sha256(), manifest));

  for (auto [name, target] : {std::pair{"train", &setup->train},
                              std::pair{"validation", &setup->validation}}) {
    absl::StatusOr<const data::SplitData*> split = setup->store.split(name);
    if (!split.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(config.manifest(), ": no \"", name, "\" split (",
                       split.status().message(), ")"));
    }
    if ((*split)->labels.size(0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          manifest.what, "=", manifest.path, ": the \"", name,
          "\" split has no images; training needs both train and validation "
          "images (validation chooses the best epoch)"));
    }
    *target = *split;
  }

  // The model, augment and fine_tune sections are checked once the
  // dataset fills their dataset-dependent fields; errors name the config.
  const auto in_config = [&](const absl::Status& status) {
    return absl::Status(
        status.code(),
        absl::StrCat(!config_source.empty() ? config_source
                     : config_path.empty()  ? "the training config"
                                            : config_path,
                     ": ", status.message()));
  };
  model::ModelConfig model_config = config.model();
  const FineTuneConfig& fine_tune = config.fine_tune();
  if (!fine_tune.init_from().empty()) {
    setup->fine_tune.emplace();
    absl::StatusOr<model::ModelConfig> loaded =
        FineTuneModelConfig(config, &*setup->fine_tune);
    if (!loaded.ok()) return in_config(loaded.status());
    model_config = *std::move(loaded);
    ASSIGN_OR_RETURN(InputDigest digest,
                     DigestOf("init_from", fine_tune.init_from()));
    setup->fine_tune->set_init_from_sha256(digest.sha256());
    setup->inputs.push_back(digest);
  }
  absl::Status fitted =
      FitModelToDataset(setup->store.manifest(), &model_config);
  if (!fitted.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.manifest(), ": ", fitted.message(),
        fine_tune.init_from().empty()
            ? ""
            : absl::StrCat(" (the architecture of fine_tune.init_from ",
                           fine_tune.init_from(), ")")));
  }
  absl::StatusOr<model::ModelConfig> resolved_model =
      model::ResolveModelConfig(model_config);
  if (!resolved_model.ok()) return in_config(resolved_model.status());
  *setup->resolved.mutable_model() = *resolved_model;

  absl::StatusOr<augment::Augmenter> augmenter = augment::Augmenter::Create(
      config.augment(), setup->store.manifest().dataset());
  if (!augmenter.ok()) return in_config(augmenter.status());
  *setup->resolved.mutable_augment() = augmenter->resolved();
  setup->augmenter.emplace(*std::move(augmenter));

  // Initialisation is the first draw from the seeded global generator;
  // dropout and drop-path continue from there.
  torch::manual_seed(config.seed());
  setup->model = model::ViTMoE(*resolved_model);
  if (setup->fine_tune.has_value()) {
    absl::Status started =
        StartFineTune(fine_tune, setup->model, &*setup->fine_tune);
    if (!started.ok()) return in_config(started);
  }
  setup->model->to(setup->device);
  setup->model->train();
  setup->groups = NameGroups(setup->model, config.optimizer().weight_decay(),
                             fine_tune.backbone_lr_scale());
  return setup;
}

}  // namespace vit_moe::pipeline
