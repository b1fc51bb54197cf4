#include "model/test_util.h"

#include <algorithm>

#include "glog/logging.h"
#include "model/presets.h"

namespace vit_moe::model {

ModelConfig TinyConfig(ExpertKind kind) {
  ModelConfig c = DefaultPreset();
  c.set_image_size(8);
  c.set_in_channels(3);
  c.set_num_classes(5);
  c.set_conv_stem_layers(0);
  c.set_patch_size(2);
  c.set_embed_dim(16);
  c.set_num_heads(2);
  c.set_depth(2);
  c.set_mlp_ratio(2.0);
  c.set_pooling(CLASS_TOKEN);
  c.set_dropout(0.0);
  c.set_attention_dropout(0.0);
  c.set_drop_path(0.0);
  MoeConfig* moe = c.mutable_moe();
  moe->set_num_experts(4);
  moe->set_top_k(2);
  moe->set_expert_kind(kind);
  moe->set_placement(EVERY_LAYER);
  moe->set_router_noise(0.0);
  moe->set_capacity_factor(0.0);
  moe->set_balance_loss_weight(0.01);
  moe->set_z_loss_weight(0.001);
  moe->set_router_l2_weight(0.03);
  return c;
}

std::map<std::string, torch::Tensor> GradientsByName(
    torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> grads;
  for (const auto& item : module.named_parameters()) {
    const torch::Tensor& g = item.value().grad();
    grads[item.key()] =
        g.defined() ? g.clone() : torch::zeros_like(item.value());
  }
  return grads;
}

double MaxGradientDifference(const std::map<std::string, torch::Tensor>& a,
                             const std::map<std::string, torch::Tensor>& b) {
  CHECK_EQ(a.size(), b.size());
  double worst = 0.0;
  for (const auto& [name, grad] : a) {
    const torch::Tensor& other = b.at(name);
    worst = std::max(worst, (grad - other).abs().max().item<double>());
  }
  return worst;
}

}  // namespace vit_moe::model
