// Model files (best_model.pt): a ModelFile record (tensor_record.proto)
// holding the resolved ModelConfig plus every named parameter and buffer,
// so a file alone rebuilds the model that wrote it, and a SHA-256 of both
// that every read checks: a changed byte is refused, never loaded. Equal
// models give equal bytes. Tensors are read on the CPU and copied to the
// model's device, so a file written on CUDA loads on CPU and back.
#ifndef VIT_MOE_MODEL_CHECKPOINT_H_
#define VIT_MOE_MODEL_CHECKPOINT_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/model_config.pb.h"
#include "model/vit_moe.h"

namespace vit_moe::model {

inline constexpr int kModelFileFormatVersion = 2;

// Writes the model's config and tensors to `path` atomically.
absl::Status SaveModel(const std::string& path, ViTMoE& model);

// Rebuilds the model from the file's config and loads its tensors onto
// `device`. The model is in eval mode.
absl::StatusOr<ViTMoE> LoadModel(const std::string& path, torch::Device device);

// The config stored in a model file (the file is checked whole).
absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& path);

// Copies the file's tensors into an existing model. Tensors whose names
// start with `keep_prefix` (when not empty) keep the model's own values,
// whatever the file holds for them: a head initialised afresh for another
// class count. Any other tensor the model lacks, a model tensor the file
// lacks, or a shape or dtype mismatch is InvalidArgument naming the tensor
// and the file, and leaves the model as it was.
absl::Status LoadWeightsInto(ViTMoE& model, const std::string& path,
                             const std::string& keep_prefix = "");

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_CHECKPOINT_H_
