// The two expert kinds of an MoE layer. Each returns the expert's residual
// update ("delta") rather than the updated tokens, so the layer can form
// x + sum_k p_k * delta_k with a single residual.
//
// - BlockExpert: a whole pre-norm transformer block; delta = Block(x) - x =
//   a + MLP(norm2(x + a)) with a = Attn(norm1(x)). Its sparse form computes
//   queries, attention output and MLP only for the routed tokens, keys and
//   values for all tokens of the images those tokens belong to.
// - FfnExpert: an MLP on the (already normalised) token.
//
// Legend: B batch, N tokens, D embed, S routed tokens.
#ifndef VIT_MOE_MODEL_EXPERTS_H_
#define VIT_MOE_MODEL_EXPERTS_H_

#include <torch/torch.h>

#include "model/attention.h"
#include "model/layers.h"

namespace vit_moe::model {

class ExpertImpl : public torch::nn::Module {
 public:
  // x: [B, N, D]; tokens: [S] int64 flat indices into B*N, ascending.
  // Returns [S, D]: the delta of each routed token.
  virtual torch::Tensor DeltaForTokens(const torch::Tensor& x,
                                       const torch::Tensor& tokens) = 0;
  // Reference: the delta of every token, [B, N, D].
  virtual torch::Tensor DeltaForAll(const torch::Tensor& x) = 0;
};

class BlockExpertImpl : public ExpertImpl {
 public:
  BlockExpertImpl(int64_t dim, int64_t num_heads, int64_t hidden, bool qkv_bias,
                  double dropout, double attention_dropout);
  torch::Tensor DeltaForTokens(const torch::Tensor& x,
                               const torch::Tensor& tokens) override;
  torch::Tensor DeltaForAll(const torch::Tensor& x) override;

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};
};

class FfnExpertImpl : public ExpertImpl {
 public:
  FfnExpertImpl(int64_t dim, int64_t hidden, double dropout);
  torch::Tensor DeltaForTokens(const torch::Tensor& x,
                               const torch::Tensor& tokens) override;
  torch::Tensor DeltaForAll(const torch::Tensor& x) override;

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};

 private:
  double dropout_;
};

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_EXPERTS_H_
