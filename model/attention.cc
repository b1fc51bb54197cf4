#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"
#include "model/dispatch.h"
#include "model/dropout.h"
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
  // Scaling q rather than the scores: a head is narrower than a sequence.
  torch::Tensor scores = torch::matmul(q * scale_, k.transpose(-2, -1));
  torch::Tensor attn = torch::softmax(scores, -1);  // [B, h, M, N]
  attn = Dropout(attn, attention_dropout_, is_training());
  torch::Tensor out = torch::matmul(attn, v);  // [B, h, M, d]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), dim_});
}

torch::Tensor AttentionImpl::Project(const torch::Tensor& heads_out) {
  return Dropout(proj->forward(heads_out), projection_dropout_, is_training());
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), n = x.size(1);
  // [B, N, 3D] -> [3, B, h, N, d]
  torch::Tensor qkv_out = qkv->forward(x)
                              .view({b, n, 3, num_heads_, head_dim_})
                              .permute({2, 0, 3, 1, 4});
  // unbind, not three selects: its backward writes one gradient buffer
  // where each select's would zero-fill a whole [3, B, h, N, d] tensor.
  std::vector<torch::Tensor> q_k_v = qkv_out.unbind(0);
  return Project(Attend(q_k_v[0], q_k_v[1], q_k_v[2]));
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
  std::vector<torch::Tensor> k_v = kv.unbind(0);
  return {k_v[0], k_v[1]};
}

torch::Tensor AttentionImpl::forward_queries(const torch::Tensor& x,
                                             const torch::Tensor& query_index,
                                             int64_t queries) {
  const int64_t b = x.size(0), n = x.size(1);
  const int64_t s = queries;
  auto [k, v] = KeysValues(x);

  torch::Tensor bias;
  if (qkv->bias.defined()) bias = qkv->bias.narrow(0, 0, dim_);
  torch::Tensor q =
      torch::linear(x.reshape({b * n, dim_}).index_select(0, query_index),
                    qkv->weight.narrow(0, 0, dim_),
                    bias);  // [P, D]

  // Pack each image's queries into rows 0..count-1 of its own [M, D] block
  // so one batched matmul serves every image; padding rows are zero and
  // their outputs are never read.
  torch::Tensor image =
      torch::div(query_index.narrow(0, 0, s), n, "floor");  // [S]
  torch::Tensor counts = CountValues(image, b);             // [B]
  // The tightest M needs the host to read a device value; off the CPU that
  // stalls the launch queue, which costs more than padding every image to
  // N query rows (attention scores are a small part of a block's work). On
  // the CPU, M is rounded up to a multiple of 8 so that few distinct shapes
  // reach oneDNN (see PaddedRows).
  const int64_t m =
      x.is_cpu() ? std::min(n, (counts.max().item<int64_t>() + 7) / 8 * 8) : n;
  torch::Tensor first = torch::cumsum(counts, 0) - counts;  // [B]
  torch::Tensor rank = torch::arange(s, query_index.options()) -
                       first.index_select(0, image);  // [S]
  torch::Tensor packed_index = image * m + rank;      // [S]
  torch::Tensor packed = torch::zeros({b * m, dim_}, q.options())
                             .index_copy(0, packed_index, q.narrow(0, 0, s))
                             .view({b, m, num_heads_, head_dim_})
                             .transpose(1, 2);  // [B, h, M, d]
  torch::Tensor out =
      Attend(packed, k, v)  // [B, M, D]
          .reshape({b * m, dim_})
          .index_select(0, PadIndex(packed_index, query_index.size(0)));
  return Project(out);  // [P, D]
}

}  // namespace vit_moe::model
