// Model files: the resolved ModelConfig plus every named parameter and
// buffer, so a file alone rebuilds the model that wrote it.
//
// Layout (little-endian):
//   "VITMOE01"                                    8-byte magic + version
//   u64 config size, ModelConfig (binary, deterministic)
//   u64 tensor count, then per tensor in named_parameters/buffers order:
//     u32 name size, name, i8 c10::ScalarType, u32 rank, i64 dims[rank],
//     u64 byte count, raw row-major bytes
// Equal models give equal bytes. Tensors are read on the CPU and copied to
// the model's device, so a file written on CUDA loads on CPU and back.
#ifndef VIT_MOE_MODEL_CHECKPOINT_H_
#define VIT_MOE_MODEL_CHECKPOINT_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/model_config.pb.h"
#include "model/vit_moe.h"

namespace vit_moe::model {

// The bytes of a model file (for embedding in a training checkpoint).
std::string SerializeModel(ViTMoE& model);

// Writes SerializeModel(model) to `path` atomically.
absl::Status SaveModel(const std::string& path, ViTMoE& model);

// Rebuilds the model from the file's config and loads its tensors onto
// `device`. The model is in eval mode.
absl::StatusOr<ViTMoE> LoadModel(const std::string& path, torch::Device device);

// The config stored in a model file, without building the model.
absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& path);

// Copies the file's tensors into an existing model. A tensor the model lacks,
// a model tensor the file lacks, or a shape or dtype mismatch is
// InvalidArgument naming the tensor and the file.
absl::Status LoadWeightsInto(ViTMoE& model, const std::string& path);

// Same, from bytes produced by SerializeModel; `source` names them in errors.
absl::Status LoadWeightsFromBytes(ViTMoE& model, absl::string_view bytes,
                                  const std::string& source);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_CHECKPOINT_H_
