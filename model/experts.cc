#include "model/experts.h"

#include "model/dispatch.h"

namespace vit_moe::model {

BlockExpertImpl::BlockExpertImpl(int64_t dim, int64_t num_heads, int64_t hidden,
                                 bool qkv_bias, double dropout,
                                 double attention_dropout) {
  norm1 = register_module(
      "norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  attn = register_module(
      "attn", Attention(dim, num_heads, qkv_bias, attention_dropout, dropout));
  norm2 = register_module(
      "norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  mlp = register_module("mlp", Mlp(dim, hidden, dropout));
}

torch::Tensor BlockExpertImpl::DeltaForAll(const torch::Tensor& x) {
  torch::Tensor a = attn->forward(norm1->forward(x));  // [B, N, D]
  return a + mlp->forward(norm2->forward(x + a));      // [B, N, D]
}

torch::Tensor BlockExpertImpl::DeltaForTokens(const torch::Tensor& x,
                                              const torch::Tensor& tokens) {
  const int64_t n = x.size(1), d = x.size(2);
  const int64_t s = tokens.size(0);
  const torch::Tensor rows = PadIndex(tokens, PaddedRows(s));  // [P]
  // Only images with at least one routed token need keys and values. Finding
  // them has a data-dependent size, i.e. a host synchronisation, so off the
  // CPU every image keeps its keys and values (at seed batch sizes nearly
  // every image has a token for every expert anyway).
  torch::Tensor x_images = x;  // [B', N, D]
  torch::Tensor local_rows = rows;
  if (x.is_cpu()) {
    torch::Tensor image = torch::div(tokens, n, "floor");  // [S]
    auto [images, local_image] =
        at::_unique(image, /*sorted=*/true, /*return_inverse=*/true);
    // With many routed tokens every image is involved; skip the copy then.
    if (images.size(0) < x.size(0)) {
      local_rows = PadIndex(local_image * n + (tokens - image * n),
                            rows.size(0));  // [P]
      x_images = x.index_select(0, images);
    }
  }
  torch::Tensor a =
      attn->forward_queries(norm1->forward(x_images), local_rows, s);  // [P, D]
  torch::Tensor h = x.reshape({-1, d}).index_select(0, rows) + a;      // [P, D]
  return (a + mlp->forward(norm2->forward(h))).narrow(0, 0, s);
}

FfnExpertImpl::FfnExpertImpl(int64_t dim, int64_t hidden, double dropout)
    : dropout_(dropout) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
  InitLinear(fc1);
  InitLinear(fc2);
}

torch::Tensor FfnExpertImpl::DeltaForAll(const torch::Tensor& x) {
  return MlpForward(x, fc1, fc2, dropout_, is_training());
}

torch::Tensor FfnExpertImpl::DeltaForTokens(const torch::Tensor& x,
                                            const torch::Tensor& tokens) {
  const int64_t s = tokens.size(0);
  const torch::Tensor rows = PadIndex(tokens, PaddedRows(s));  // [P]
  return MlpForward(x.reshape({-1, x.size(2)}).index_select(0, rows), fc1, fc2,
                    dropout_, is_training())
      .narrow(0, 0, s);  // [S, D]
}

}  // namespace vit_moe::model
