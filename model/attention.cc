#include "model/attention.h"

#include <cmath>

#include "glog/logging.h"
#include "model/dispatch.h"
#include "model/layers.h"

namespace vit_moe::model {

namespace F = torch::nn::functional;

AttentionImpl::AttentionImpl(int64_t dim, int64_t num_heads, bool qkv_bias,
                             double attention_dropout,
                             double projection_dropout)
    : dim_(dim),
      num_heads_(num_heads),
      head_dim_(dim / num_heads),
      scale_(1.0 / std::sqrt(static_cast<double>(dim / num_heads))),
      attention_dropout_(attention_dropout),
      projection_dropout_(projection_dropout) {
  CHECK_EQ(dim % num_heads, 0) << "validated by ValidateModelConfig";
  qkv = register_module(
      "qkv",
      torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(qkv_bias)));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  InitLinear(qkv);
  InitLinear(proj);
}

torch::Tensor AttentionImpl::Attend(const torch::Tensor& q,
                                    const torch::Tensor& k,
                                    const torch::Tensor& v) {
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale_;
  torch::Tensor attn = torch::softmax(scores, -1);  // [B, h, M, N]
  attn = F::dropout(
      attn,
      F::DropoutFuncOptions().p(attention_dropout_).training(is_training()));
  torch::Tensor out = torch::matmul(attn, v);  // [B, h, M, d]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), dim_});
}

torch::Tensor AttentionImpl::Project(const torch::Tensor& heads_out) {
  return F::dropout(
      proj->forward(heads_out),
      F::DropoutFuncOptions().p(projection_dropout_).training(is_training()));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), n = x.size(1);
  // [B, N, 3D] -> [3, B, h, N, d]
  torch::Tensor qkv_out = qkv->forward(x)
                              .view({b, n, 3, num_heads_, head_dim_})
                              .permute({2, 0, 3, 1, 4});
  return Project(Attend(qkv_out[0], qkv_out[1], qkv_out[2]));
}

std::pair<torch::Tensor, torch::Tensor> AttentionImpl::KeysValues(
    const torch::Tensor& x) {
  const int64_t b = x.size(0), n = x.size(1);
  torch::Tensor bias;
  if (qkv->bias.defined()) bias = qkv->bias.narrow(0, dim_, 2 * dim_);
  // [B, N, 2D] -> [2, B, h, N, d]
  torch::Tensor kv =
      torch::linear(x, qkv->weight.narrow(0, dim_, 2 * dim_), bias)
          .view({b, n, 2, num_heads_, head_dim_})
          .permute({2, 0, 3, 1, 4});
  return {kv[0], kv[1]};
}

torch::Tensor AttentionImpl::forward_queries(const torch::Tensor& x,
                                             const torch::Tensor& query_index) {
  const int64_t b = x.size(0), n = x.size(1);
  const int64_t s = query_index.size(0);
  auto [k, v] = KeysValues(x);

  torch::Tensor bias;
  if (qkv->bias.defined()) bias = qkv->bias.narrow(0, 0, dim_);
  torch::Tensor q =
      torch::linear(x.reshape({b * n, dim_}).index_select(0, query_index),
                    qkv->weight.narrow(0, 0, dim_),
                    bias);  // [S, D]

  // Pack each image's queries into rows 0..count-1 of its own [M, D] block
  // so one batched matmul serves every image; padding rows are zero and
  // their outputs are never read.
  torch::Tensor image = torch::div(query_index, n, "floor");  // [S]
  torch::Tensor counts = CountValues(image, b);               // [B]
  // The tightest M needs the host to read a device value; off the CPU that
  // stalls the launch queue, which costs more than padding every image to
  // N query rows (attention scores are a small part of a block's work).
  const int64_t m = x.is_cpu() ? counts.max().item<int64_t>() : n;
  torch::Tensor first = torch::cumsum(counts, 0) - counts;  // [B]
  torch::Tensor rank = torch::arange(s, query_index.options()) -
                       first.index_select(0, image);  // [S]
  torch::Tensor packed_index = image * m + rank;      // [S]
  torch::Tensor packed = torch::zeros({b * m, dim_}, q.options())
                             .index_copy(0, packed_index, q)
                             .view({b, m, num_heads_, head_dim_})
                             .transpose(1, 2);  // [B, h, M, d]
  torch::Tensor out = Attend(packed, k, v)      // [B, M, D]
                          .reshape({b * m, dim_})
                          .index_select(0, packed_index);  // [S, D]
  return Project(out);
}

}  // namespace vit_moe::model
