#include "model/presets.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"

namespace vit_moe::model {

namespace {

// The presets in the form a config file's `model { }` takes, so one can be
// copied into a config and edited. Every field is set explicitly, zeros
// included (they are proto3 `optional`).
constexpr char kSeedPreset[] = R"pb(
  preset: "seed"
  image_size: 32
  in_channels: 3
  num_classes: 43
  patch_size: 4
  embed_dim: 192
  depth: 9
  num_heads: 12
  mlp_ratio: 2.0
  qkv_bias: true
  conv_stem_layers: 0
  pooling: CLASS_TOKEN
  dropout: 0.15
  attention_dropout: 0.1
  drop_path: 0.1
  drop_path_linear: false
  moe {
    num_experts: 7
    top_k: 3
    expert_kind: BLOCK
    router_kind: EXPERT_TOKEN
    placement: EVERY_LAYER
    router_noise: 0.0
    capacity_factor: 0.0
    balance_loss_weight: 1.0
    z_loss_weight: 0.0
    router_l2_weight: 0.03
  }
)pb";

// The stem halves the side (conv 3x3 + max-pool), patch 2 halves it again:
// 28x28 -> 7x7 = 49 tokens, 32x32 -> 8x8 = 64 tokens.
constexpr char kDefaultPreset[] = R"pb(
  preset: "default"
  image_size: 32
  in_channels: 3
  num_classes: 10
  conv_stem_layers: 1
  patch_size: 2
  embed_dim: 96
  depth: 6
  num_heads: 4
  mlp_ratio: 2.0
  qkv_bias: true
  pooling: SEQUENCE_POOL
  dropout: 0.0
  attention_dropout: 0.0
  drop_path: 0.1
  drop_path_linear: true
  moe {
    num_experts: 4
    top_k: 2
    expert_kind: FFN
    router_kind: EXPERT_TOKEN
    placement: EVERY_OTHER_LAYER
    router_noise: 0.0
    capacity_factor: 0.0
    balance_loss_weight: 0.01
    z_loss_weight: 0.001
    router_l2_weight: 0.0
  }
)pb";

ModelConfig ParsePreset(const char* text) {
  ModelConfig config;
  CHECK(google::protobuf::TextFormat::ParseFromString(text, &config))
      << "a model preset does not parse";
  return config;
}

}  // namespace

ModelConfig SeedPreset() { return ParsePreset(kSeedPreset); }

ModelConfig DefaultPreset() { return ParsePreset(kDefaultPreset); }

std::vector<std::string> PresetNames() { return {"seed", "default"}; }

absl::StatusOr<ModelConfig> PresetByName(absl::string_view name) {
  if (name == "seed") return SeedPreset();
  if (name.empty() || name == "default") return DefaultPreset();
  return absl::InvalidArgumentError(
      absl::StrCat("model.preset: unknown preset \"", name,
                   "\"; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace vit_moe::model
