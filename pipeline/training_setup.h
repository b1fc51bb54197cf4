// Everything a training run needs before its first step, built from a
// validated TrainConfig: the device and threads, the dataset store and
// normalisation (checked against each other), the resolved model and
// augmentation configs, the initialised (or fine-tuning's loaded) model,
// and AdamW's parameter groups. Input digests are collected here, as each input
// is read.
#ifndef VIT_MOE_PIPELINE_TRAINING_SETUP_H_
#define VIT_MOE_PIPELINE_TRAINING_SETUP_H_

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "augment/augmenter.h"
#include "data/artifact_fit.h"
#include "data/normalization.pb.h"
#include "data/store.h"
#include "model/vit_moe.h"
#include "pipeline/adamw.h"
#include "pipeline/train_config.pb.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

struct TrainingSetup {
  // The config as run: model and augment sections resolved, every default
  // written out.
  TrainConfig resolved;
  torch::Device device{torch::kCPU};
  int threads = 0;
  data::DatasetStore store;
  data::Normalization normalization;
  // Splits used: training never touches "test".
  const data::SplitData* train = nullptr;
  const data::SplitData* validation = nullptr;
  std::optional<augment::Augmenter> augmenter;
  model::ViTMoE model{nullptr};
  // AdamW groups of the trainable parameters, named: decay, then no decay
  // (norms, biases, position embedding, class token, router tokens); with
  // fine_tune.backbone_lr_scale != 1 each split again into backbone and
  // head. Frozen parameters are in none.
  std::vector<ParameterGroup> groups;
  std::vector<InputDigest> inputs;
  // Set when fine_tune.init_from started the model from a file.
  std::optional<FineTuneRecord> fine_tune;
};

// `config_path` (may be empty) is recorded as the "config" input;
// `config_source` (the file and any override flags; empty: the path) names
// it in errors;
// `local_rank` (LOCAL_RANK) picks this process's GPU on CUDA; errors name
// the manifest and normalization as `manifest` and `normalization` say
// (the flag or config field that set them).
absl::StatusOr<std::unique_ptr<TrainingSetup>> BuildTrainingSetup(
    const TrainConfig& config, const std::string& config_path,
    const std::string& config_source, int local_rank,
    const data::Artifact& manifest, const data::Artifact& normalization);

// Fills model.num_classes, image_size and in_channels from the dataset
// where the config leaves them unset; InvalidArgument when a set value
// contradicts the dataset.
absl::Status FitModelToDataset(const data::DatasetManifest& manifest,
                               model::ModelConfig* model);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_TRAINING_SETUP_H_
