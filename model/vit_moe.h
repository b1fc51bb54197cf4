// The ViT-MoE classifier.
//
//   images [B, C, H, W]
//   -> convolutional stem (conv_stem_layers x: conv 3x3, ReLU, max-pool /2)
//   -> patch embedding (conv, kernel = stride = patch_size) -> [B, G*G, D]
//   -> class token (CLASS_TOKEN pooling) + learned position embedding
//   -> depth pre-norm transformer layers, MoE where IsMoeLayer() says
//   -> final LayerNorm -> class token or sequence pooling -> linear head.
//
// Layer kinds (x: [B, N, D]; dp: stochastic depth):
//   dense:      h = x + dp(Attn(norm1 x));  out = h + dp(MLP(norm2 h))
//   MoE block:  out = x + dp(sum_k p_k (Block_k(x) - x))
//   MoE ffn:    h = x + dp(Attn(norm1 x));  out = h + dp(MoE(norm2 h))
//
// Parameter names are stable (checkpoints and ONNX export use them), e.g.
// "blocks.3.moe.experts.2.mlp.fc1.weight", "blocks.1.moe.router.expert_tokens".
//
// Legend: B batch, N tokens, D embed, E experts, K top-k, C classes.
#ifndef VIT_MOE_MODEL_VIT_MOE_H_
#define VIT_MOE_MODEL_VIT_MOE_H_

#include <torch/torch.h>

#include <vector>

#include "absl/strings/string_view.h"
#include "model/attention.h"
#include "model/layers.h"
#include "model/model_config.pb.h"
#include "model/moe_layer.h"

namespace vit_moe::model {

struct ModelOutput {
  torch::Tensor logits;  // [B, C]
  // [B, D]: the pooled, normalised features the head reads (feature-space
  // out-of-distribution scores fit on them).
  torch::Tensor features;
  // Per MoE layer, of this batch (data-parallel training replaces them by
  // the global batch's and calls SetAuxLosses again).
  std::vector<RoutingStatistics> routing;
  std::vector<torch::Tensor> expert_load;  // per MoE layer: [E] float
  std::vector<torch::Tensor> top_experts;  // per MoE layer: [B, N, K] int64
  // Per MoE layer, of this process's batch alone (never globalised).
  std::vector<MoeDiagnostics> diagnostics;
  // Scalars averaged over MoE layers: the weighted z-loss + router L2, the
  // unweighted balance loss of `routing`, and aux_loss = balance weight x
  // balance_loss + router_penalty.
  torch::Tensor router_penalty;
  torch::Tensor balance_loss;
  torch::Tensor aux_loss;
};

// Sets out->balance_loss and out->aux_loss from out->routing and
// out->router_penalty; a pure function of them.
void SetAuxLosses(double balance_loss_weight, ModelOutput* out);

class TransformerLayerImpl : public torch::nn::Module {
 public:
  TransformerLayerImpl(const ModelConfig& resolved, bool moe, double drop_path);
  // x: [B, N, D] -> [B, N, D]; `moe_out` receives the MoE statistics.
  torch::Tensor forward(const torch::Tensor& x, MoeOutput* moe_out);

  bool is_moe() const { return !moe.is_empty(); }
  // Routes MoE computation through the dense reference (tests, benchmarks).
  void set_dense_reference(bool dense) { dense_reference_ = dense; }

  torch::nn::LayerNorm norm1{nullptr};  // absent for MoE with block experts
  Attention attn{nullptr};              // absent for MoE with block experts
  torch::nn::LayerNorm norm2{nullptr};  // absent for MoE with block experts
  Mlp mlp{nullptr};                     // dense layers only
  MoeLayer moe{nullptr};                // MoE layers only

 private:
  double drop_path_;
  bool dense_reference_ = false;
};
TORCH_MODULE(TransformerLayer);

class ViTMoEImpl : public torch::nn::Module {
 public:
  // `resolved` must pass ValidateModelConfig (CHECKed).
  explicit ViTMoEImpl(const ModelConfig& resolved);
  // images: [B, C, H, W] float, normalised.
  ModelOutput forward(const torch::Tensor& images);
  const ModelConfig& config() const { return config_; }

  // For AdamW: no decay on norms, biases, position embedding, class token
  // and router weights (the router L2 term is their regulariser).
  std::vector<torch::Tensor> decay_parameters();
  std::vector<torch::Tensor> no_decay_parameters();

  // Every MoE layer uses the dense reference instead of sparse dispatch.
  void set_dense_reference(bool dense);

 private:
  static bool IsNoDecay(const std::string& name, const torch::Tensor& p);

  ModelConfig config_;
  torch::nn::ModuleList stem_{nullptr};  // conv_stem_layers Conv2d
  torch::nn::Conv2d patch_embed_{nullptr};
  torch::Tensor cls_token_;  // [1, 1, D], CLASS_TOKEN pooling only
  torch::Tensor pos_embed_;  // [1, N, D]
  torch::nn::ModuleList blocks_{nullptr};
  std::vector<TransformerLayer> layers_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear seq_pool_{nullptr};  // D -> 1, SEQUENCE_POOL only
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(ViTMoE);

int64_t CountTrainableParameters(const ViTMoE& model);

// Where a parameter sits, by its module path in ViTMoE: the embedding
// (conv stem, patch projection, class token, position embedding), a
// transformer block, or the classification head. Fine-tuning freezes and
// re-initialises by these.
bool IsEmbeddingParameter(absl::string_view name);
// The block index of "blocks.<i>.*", -1 for names outside the blocks.
int BlockIndexOf(absl::string_view name);
bool IsHeadParameter(absl::string_view name);
// Module path prefix of the classification head's tensors.
inline constexpr char kHeadPrefix[] = "head.";

// A multi-line description: config, layer plan, parameters per part,
// analytic forward FLOPs per image.
std::string DescribeModel(const ViTMoE& model);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_VIT_MOE_H_
