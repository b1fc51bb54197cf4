// Named model architectures. A preset is a complete ModelConfig; a user's
// config names one and overrides single fields (see config.h).
//
// - "seed": the seed system exactly (shared/REFERENCE.md): 32x32x3, patch 4,
//   D 192, depth 9, 12 heads, MLP ratio 2, every layer an MoE of 7 block
//   experts with top-3 expert-token routing. 18,755,371 parameters at 43
//   classes. Its defects (attention scale, doubled residual, dense experts,
//   raw-residual router) are not reproduced: the architecture is, the bugs
//   are not.
// - "default": chosen for accuracy per unit of compute on small images on a
//   CPU: a one-layer convolutional stem, 7x7 or 8x8 tokens, D 96, depth 6,
//   FFN experts in every other layer, top-2, sequence pooling.
#ifndef VIT_MOE_MODEL_PRESETS_H_
#define VIT_MOE_MODEL_PRESETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/model_config.pb.h"

namespace vit_moe::model {

ModelConfig SeedPreset();
ModelConfig DefaultPreset();

// InvalidArgument naming the known presets for an unknown name; "" = "default".
absl::StatusOr<ModelConfig> PresetByName(absl::string_view name);

std::vector<std::string> PresetNames();

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_PRESETS_H_
