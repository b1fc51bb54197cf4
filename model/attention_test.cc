#include "model/attention.h"

#include <cmath>

#include "gtest/gtest.h"
#include "model/dispatch.h"
#include "model/precision.h"

namespace vit_moe::model {
namespace {

// softmax(Q K^T / sqrt(d)) V head by head with plain loops over heads.
torch::Tensor StraightforwardAttention(AttentionImpl& attn,
                                       const torch::Tensor& x, int64_t heads) {
  const int64_t dim = x.size(2), d = dim / heads;
  torch::Tensor qkv = torch::matmul(x, attn.qkv->weight.t()) + attn.qkv->bias;
  torch::Tensor q = qkv.narrow(2, 0, dim);
  torch::Tensor k = qkv.narrow(2, dim, dim);
  torch::Tensor v = qkv.narrow(2, 2 * dim, dim);
  std::vector<torch::Tensor> outputs;
  for (int64_t h = 0; h < heads; ++h) {
    torch::Tensor qh = q.narrow(2, h * d, d);
    torch::Tensor kh = k.narrow(2, h * d, d);
    torch::Tensor vh = v.narrow(2, h * d, d);
    torch::Tensor scores = torch::bmm(qh, kh.transpose(1, 2)) / std::sqrt(d);
    outputs.push_back(torch::bmm(torch::softmax(scores, -1), vh));
  }
  torch::Tensor concat = torch::cat(outputs, 2);
  return torch::matmul(concat, attn.proj->weight.t()) + attn.proj->bias;
}

TEST(AttentionTest, MatchesStraightforwardSoftmaxAttention) {
  torch::manual_seed(0);
  Attention attn(/*dim=*/8, /*num_heads=*/2, /*qkv_bias=*/true, 0.1, 0.1);
  attn->eval();  // dropout off
  torch::Tensor x = torch::randn({2, 5, 8});
  torch::Tensor expected = StraightforwardAttention(*attn, x, 2);
  EXPECT_LE((attn->forward(x) - expected).abs().max().item<double>(), 1e-6);
}

TEST(AttentionTest, ScaleIsOneOverSqrtHeadDim) {
  // With a single key per query the output is V whatever the scale; with
  // two, a wrong scale shows. Large-norm inputs make the softmax sharp.
  torch::manual_seed(1);
  Attention attn(16, 4, true, 0.0, 0.0);
  torch::Tensor x = 3.0 * torch::randn({1, 6, 16});
  torch::Tensor expected = StraightforwardAttention(*attn, x, 4);
  EXPECT_LE((attn->forward(x) - expected).abs().max().item<double>(), 1e-5);
}

TEST(AttentionTest, QuerySubsetEqualsRowsOfFullAttention) {
  torch::manual_seed(2);
  Attention attn(8, 2, false, 0.0, 0.0);
  torch::Tensor x = torch::randn({3, 5, 8});
  torch::Tensor full = attn->forward(x).reshape({15, 8});
  // Image 1 has no query at all; image 2 has all but one.
  torch::Tensor index = torch::tensor({0, 3, 10, 11, 13, 14}, torch::kLong);
  torch::Tensor subset = attn->forward_queries(x, index, 6);
  ASSERT_EQ(subset.sizes(), (std::vector<int64_t>{6, 8}));
  EXPECT_LE((subset - full.index_select(0, index)).abs().max().item<double>(),
            1e-6);

  // Padding rows (the last query repeated) answer as that query does.
  torch::Tensor padded_index = PadIndex(index, 9);
  ASSERT_EQ(padded_index.size(0), 9);
  torch::Tensor padded = attn->forward_queries(x, padded_index, 6);
  ASSERT_EQ(padded.sizes(), (std::vector<int64_t>{9, 8}));
  EXPECT_LE(
      (padded - full.index_select(0, padded_index)).abs().max().item<double>(),
      1e-6);
}

TEST(PaddedRowsTest, BucketsOnlyUnderCpuAutocast) {
  EXPECT_EQ(PaddedRows(1), 1);
  EXPECT_EQ(PaddedRows(130), 130);
  AutocastScope bf16(true, torch::kCPU);
  EXPECT_EQ(PaddedRows(1), kRowBucket);
  EXPECT_EQ(PaddedRows(kRowBucket), kRowBucket);
  EXPECT_EQ(PaddedRows(kRowBucket + 1), 2 * kRowBucket);
}

}  // namespace
}  // namespace vit_moe::model
