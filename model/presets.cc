#include "model/presets.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vit_moe::model {

ModelConfig SeedPreset() {
  ModelConfig c;
  c.set_preset("seed");
  c.set_image_size(32);
  c.set_in_channels(3);
  c.set_num_classes(43);
  c.set_patch_size(4);
  c.set_embed_dim(192);
  c.set_depth(9);
  c.set_num_heads(12);
  c.set_mlp_ratio(2.0);
  c.set_qkv_bias(true);
  c.set_conv_stem_layers(0);
  c.set_pooling(CLASS_TOKEN);
  c.set_dropout(0.15);
  c.set_attention_dropout(0.1);
  c.set_drop_path(0.1);
  c.set_drop_path_linear(false);
  MoeConfig* moe = c.mutable_moe();
  moe->set_num_experts(7);
  moe->set_top_k(3);
  moe->set_expert_kind(BLOCK);
  moe->set_router_kind(EXPERT_TOKEN);
  moe->set_placement(EVERY_LAYER);
  moe->set_router_noise(0.0);
  moe->set_capacity_factor(0.0);
  moe->set_balance_loss_weight(1.0);
  moe->set_z_loss_weight(0.0);
  moe->set_router_l2_weight(0.03);
  return c;
}

ModelConfig DefaultPreset() {
  ModelConfig c;
  c.set_preset("default");
  c.set_image_size(32);
  c.set_in_channels(3);
  c.set_num_classes(10);
  // Stem halves the side (conv 3x3 + max-pool), patch 2 halves it again:
  // 28x28 -> 7x7 = 49 tokens, 32x32 -> 8x8 = 64 tokens.
  c.set_conv_stem_layers(1);
  c.set_patch_size(2);
  c.set_embed_dim(96);
  c.set_depth(6);
  c.set_num_heads(4);
  c.set_mlp_ratio(2.0);
  c.set_qkv_bias(true);
  c.set_pooling(SEQUENCE_POOL);
  c.set_dropout(0.0);
  c.set_attention_dropout(0.0);
  c.set_drop_path(0.1);
  c.set_drop_path_linear(true);
  MoeConfig* moe = c.mutable_moe();
  moe->set_num_experts(4);
  moe->set_top_k(2);
  moe->set_expert_kind(FFN);
  moe->set_router_kind(EXPERT_TOKEN);
  moe->set_placement(EVERY_OTHER_LAYER);
  moe->set_router_noise(0.0);
  moe->set_capacity_factor(0.0);
  moe->set_balance_loss_weight(0.01);
  moe->set_z_loss_weight(0.001);
  moe->set_router_l2_weight(0.0);
  return c;
}

std::vector<std::string> PresetNames() { return {"seed", "default"}; }

absl::StatusOr<ModelConfig> PresetByName(absl::string_view name) {
  if (name == "seed") return SeedPreset();
  if (name.empty() || name == "default") return DefaultPreset();
  return absl::InvalidArgumentError(
      absl::StrCat("model.preset: unknown preset \"", name,
                   "\"; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace vit_moe::model
