// Multi-head self-attention, softmax(Q K^T / sqrt(head_dim)) V, with
// attention dropout and projection dropout.
//
// Besides the usual all-tokens forward, `forward_queries` attends from a
// subset of query tokens to all tokens of their images: what a block expert
// needs when only some tokens are routed to it. Keys and values still cover
// every token, so the rows it returns equal the corresponding rows of the
// full forward.
//
// Legend: B batch, N tokens, D embed, S selected query tokens (P with
// padding), M most queries of one image, h heads, d head_dim.
#ifndef VIT_MOE_MODEL_ATTENTION_H_
#define VIT_MOE_MODEL_ATTENTION_H_

#include <torch/torch.h>

namespace vit_moe::model {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t num_heads, bool qkv_bias,
                double attention_dropout, double projection_dropout);

  // x: [B, N, D] (already normalised) -> [B, N, D].
  torch::Tensor forward(const torch::Tensor& x);

  // x: [B, N, D]; query_index: [P] int64 flat indices into B*N, its first
  // `queries` ascending, the rest (padding, see PaddedRows) repeating the
  // last. Returns [P, D], row s the attention output of token
  // query_index[s].
  torch::Tensor forward_queries(const torch::Tensor& x,
                                const torch::Tensor& query_index,
                                int64_t queries);

  int64_t num_heads() const { return num_heads_; }

  torch::nn::Linear qkv{nullptr};   // D -> 3D, rows [q; k; v]
  torch::nn::Linear proj{nullptr};  // D -> D

 private:
  // Keys and values for all tokens: each [B, h, N, d].
  std::pair<torch::Tensor, torch::Tensor> KeysValues(const torch::Tensor& x);
  // q: [B, h, M, d] -> [B, M, D] after attention over k, v.
  torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k,
                       const torch::Tensor& v);
  torch::Tensor Project(const torch::Tensor& heads_out);

  int64_t dim_;
  int64_t num_heads_;
  int64_t head_dim_;
  double scale_;
  double attention_dropout_;
  double projection_dropout_;
};
TORCH_MODULE(Attention);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_ATTENTION_H_
