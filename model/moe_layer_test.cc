#include "model/moe_layer.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "gtest/gtest.h"
#include "model/config.h"
#include "model/dispatch.h"
#include "model/precision.h"
#include "model/router.h"
#include "model/test_util.h"

namespace vit_moe::model {
namespace {

constexpr double kTolerance = 1e-5;

struct PathResult {
  MoeOutput out;
  std::map<std::string, torch::Tensor> grads;
  torch::Tensor input_grad;
};

PathResult RunPath(MoeLayer& layer, const torch::Tensor& x_data,
                   const torch::Tensor& target, bool dense) {
  layer->zero_grad();
  torch::Tensor x = x_data.clone().requires_grad_(true);
  PathResult r;
  r.out = dense ? layer->forward_dense(x) : layer->forward(x);
  torch::Tensor loss = (r.out.delta * target).mean() + r.out.aux_loss;
  loss.backward();
  r.grads = GradientsByName(*layer);
  r.input_grad = x.grad().clone();
  return r;
}

// (expert kind, top_k, batch, capacity factor)
using AgreementCase = std::tuple<ExpertKind, int, int, double>;

class SparseDenseAgreementTest
    : public ::testing::TestWithParam<AgreementCase> {};

TEST_P(SparseDenseAgreementTest, ForwardAndAllGradientsMatch) {
  const auto [kind, top_k, batch, capacity] = GetParam();
  torch::manual_seed(1000 * top_k + 10 * batch + (kind == BLOCK ? 1 : 2));
  ModelConfig config = TinyConfig(kind);
  config.mutable_moe()->set_top_k(top_k);
  config.mutable_moe()->set_capacity_factor(capacity);
  MoeLayer layer(config);
  layer->train();
  const int64_t n = TokensPerImage(config), d = config.embed_dim();
  const int64_t e = config.moe().num_experts();
  if (capacity > 0) {
    // The limit must actually drop slots for the case to mean anything.
    ASSERT_LT(ExpertCapacity(capacity, batch * n, top_k, e) * e,
              batch * n * top_k);
  }
  torch::Tensor x = torch::randn({batch, n, d});
  torch::Tensor target = torch::randn({batch, n, d});

  PathResult sparse = RunPath(layer, x, target, /*dense=*/false);
  PathResult dense = RunPath(layer, x, target, /*dense=*/true);

  EXPECT_TRUE(torch::equal(sparse.out.top_experts, dense.out.top_experts));
  EXPECT_LE((sparse.out.delta - dense.out.delta).abs().max().item<double>(),
            kTolerance);
  EXPECT_LE((sparse.input_grad - dense.input_grad).abs().max().item<double>(),
            kTolerance);
  EXPECT_LE(MaxGradientDifference(sparse.grads, dense.grads), kTolerance);
  // The comparison covers real gradients, not zeros on both sides.
  const std::string router_param = config.moe().router_kind() == EXPERT_TOKEN
                                       ? "router.expert_tokens"
                                       : "router.linear.weight";
  EXPECT_GT(sparse.grads.at(router_param).abs().max().item<double>(), 0.0);
  EXPECT_GT(sparse.out.delta.abs().max().item<double>(), 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, SparseDenseAgreementTest,
    ::testing::Combine(::testing::Values(BLOCK, FFN),
                       ::testing::Values(1, 2, 3, 4),  // top-k 1..E
                       ::testing::Values(1, 3, 8),     // batch sizes
                       ::testing::Values(0.0, 0.5)));  // dropless, limited

// Under CPU bf16 autocast the experts pad their routed rows (PaddedRows):
// the padding must not leak into the result. Sparse and dense then round
// differently, so they agree to bf16 precision, and route identically (the
// router computes in float32).
TEST(MoeLayerTest, Bf16SparseWithPaddedRowsAgreesWithDense) {
  for (ExpertKind kind : {BLOCK, FFN}) {
    torch::manual_seed(kind == BLOCK ? 31 : 32);
    ModelConfig config = TinyConfig(kind);
    MoeLayer layer(config);
    layer->train();
    // 5 images x 17 tokens x top-2 over 4 experts: about 42 rows per
    // expert, padded to 64.
    const torch::Tensor x = torch::randn({5, TokensPerImage(config), 16});
    const torch::Tensor target = torch::randn_like(x);
    auto run = [&](bool dense) {
      layer->zero_grad();
      PathResult r;
      {
        AutocastScope bf16(true, torch::kCPU);
        r.out = dense ? layer->forward_dense(x) : layer->forward(x);
      }
      ((r.out.delta.to(torch::kFloat32) * target).mean() + r.out.aux_loss)
          .backward();
      r.grads = GradientsByName(*layer);
      return r;
    };
    {
      AutocastScope bf16(true, torch::kCPU);
      ASSERT_EQ(PaddedRows(42), kRowBucket);
    }
    const PathResult sparse = run(false);
    const PathResult dense = run(true);
    EXPECT_TRUE(torch::equal(sparse.out.top_experts, dense.out.top_experts));
    const double delta_scale = dense.out.delta.abs().max().item<double>();
    EXPECT_GT(delta_scale, 0.0);
    EXPECT_LE((sparse.out.delta - dense.out.delta).abs().max().item<double>(),
              0.02 * delta_scale);
    double grad_scale = 0;
    for (const auto& [name, grad] : dense.grads) {
      grad_scale = std::max(grad_scale, grad.abs().max().item<double>());
    }
    EXPECT_LE(MaxGradientDifference(sparse.grads, dense.grads),
              0.05 * grad_scale);
  }
}

TEST(MoeLayerTest, LinearRouterAgreesToo) {
  torch::manual_seed(5);
  ModelConfig config = TinyConfig(BLOCK);
  config.mutable_moe()->set_router_kind(LINEAR);
  MoeLayer layer(config);
  torch::Tensor x = torch::randn({2, TokensPerImage(config), 16});
  torch::Tensor target = torch::randn_like(x);
  PathResult sparse = RunPath(layer, x, target, false);
  PathResult dense = RunPath(layer, x, target, true);
  EXPECT_LE(MaxGradientDifference(sparse.grads, dense.grads), kTolerance);
  EXPECT_GT(sparse.grads.at("router.linear.weight").abs().max().item<double>(),
            0.0);
}

TEST(BlockExpertTest, RoutedTokensEqualRowsOfTheFullBlock) {
  torch::manual_seed(9);
  BlockExpertImpl expert(16, 2, 32, true, 0.0, 0.0);
  torch::Tensor x = torch::randn({3, 5, 16});
  torch::Tensor full = expert.DeltaForAll(x).reshape({15, 16});
  // Image 1 has no routed token (keys/values only for images 0 and 2), then
  // every image has one (no gather).
  for (const auto& index : {torch::tensor({1, 4, 10, 12}, torch::kLong),
                            torch::tensor({0, 7, 14}, torch::kLong)}) {
    torch::Tensor routed = expert.DeltaForTokens(x, index);
    EXPECT_LE((routed - full.index_select(0, index)).abs().max().item<double>(),
              1e-6);
  }
}

TEST(MoeLayerTest, RoutingStatisticsSumToSlots) {
  torch::manual_seed(3);
  ModelConfig config = TinyConfig(FFN);
  config.mutable_moe()->set_top_k(3);
  MoeLayer layer(config);
  const int64_t b = 4, n = TokensPerImage(config);
  MoeOutput out = layer->forward(torch::randn({b, n, 16}));
  ASSERT_EQ(out.top_experts.sizes(), (std::vector<int64_t>{b, n, 3}));
  EXPECT_EQ(out.expert_load.sum().item<double>(), b * n * 3);
  EXPECT_TRUE(torch::equal(
      out.expert_load,
      torch::bincount(out.top_experts.reshape({-1}), {}, 4).to(torch::kFloat)));
  // Top-k picks distinct experts per token.
  torch::Tensor sorted = std::get<0>(out.top_experts.sort(-1));
  EXPECT_TRUE(
      (sorted.narrow(-1, 1, 2) != sorted.narrow(-1, 0, 2)).all().item<bool>());
}

TEST(MoeLayerTest, RouterNoiseOnlyInTrainingAndSeeded) {
  ModelConfig config = TinyConfig(FFN);
  config.mutable_moe()->set_router_noise(1.0);
  torch::manual_seed(11);
  MoeLayer layer(config);
  torch::Tensor x = torch::randn({2, TokensPerImage(config), 16});
  layer->train();
  torch::manual_seed(21);
  torch::Tensor first = layer->forward(x).delta;
  torch::manual_seed(21);
  EXPECT_TRUE(torch::equal(first, layer->forward(x).delta));
  layer->eval();
  torch::Tensor clean = layer->forward(x).delta;
  EXPECT_TRUE(torch::equal(clean, layer->forward(x).delta));
  EXPECT_FALSE(torch::allclose(first, clean));
}

// A dropped slot is one beyond an expert's capacity, whichever slots the
// plan prefers: the count needs no knowledge of the dispatch order.
TEST(MoeLayerTest, DroppedFractionCountsSlotsBeyondCapacity) {
  torch::manual_seed(13);
  ModelConfig config = TinyConfig(FFN);
  const int64_t b = 3, n = TokensPerImage(config), k = 2, e = 4;
  const torch::Tensor x = torch::randn({b, n, 16});
  MoeLayer dropless(config);
  EXPECT_EQ(dropless->forward(x).diagnostics.dropped_fraction.item<double>(),
            0.0);

  config.mutable_moe()->set_capacity_factor(0.5);
  MoeLayer limited(config);
  const MoeOutput out = limited->forward(x);
  const int64_t capacity = ExpertCapacity(0.5, b * n, k, e);
  ASSERT_GT(capacity, 0);
  double dropped = 0;
  for (int64_t i = 0; i < e; ++i) {
    dropped +=
        std::max<double>(0, out.expert_load[i].item<double>() - capacity);
  }
  ASSERT_GT(dropped, 0);
  EXPECT_NEAR(out.diagnostics.dropped_fraction.item<double>(),
              dropped / (b * n * k), 1e-7);
}

TEST(MoeLayerTest, DiagnosticsReadTheLayersRouting) {
  for (RouterKind kind : {EXPERT_TOKEN, LINEAR}) {
    torch::manual_seed(kind == LINEAR ? 41 : 42);
    ModelConfig config = TinyConfig(FFN);
    config.mutable_moe()->set_router_kind(kind);
    MoeLayer layer(config);
    const torch::Tensor x = torch::randn({2, TokensPerImage(config), 16});
    const MoeOutput out = layer->forward(x);
    const torch::Tensor probs =
        layer->router->forward(x.reshape({-1, 16})).probs;
    const double entropy = out.diagnostics.router_entropy.item<double>();
    EXPECT_NEAR(entropy, (-probs * probs.log()).sum(-1).mean().item<double>(),
                1e-6);
    EXPECT_LT(entropy, std::log(4.0));
    EXPECT_FALSE(out.diagnostics.router_entropy.requires_grad());
    // Per image: the same entropy over each image's tokens alone.
    const torch::Tensor per_image = out.diagnostics.image_router_entropy;
    ASSERT_EQ(per_image.sizes(), (std::vector<int64_t>{2}));
    EXPECT_NEAR(per_image.mean().item<double>(), entropy, 1e-6);
    const torch::Tensor first = probs.slice(0, 0, TokensPerImage(config));
    EXPECT_NEAR(per_image[0].item<double>(),
                (-first * first.log()).sum(-1).mean().item<double>(), 1e-6);
    EXPECT_NEAR(out.diagnostics.z_loss.item<double>(),
                out.z_loss.item<double>(), 1e-7);
    EXPECT_FALSE(out.diagnostics.z_loss.requires_grad());
    // Zero router weights give equal logits: uniform routing.
    {
      torch::NoGradGuard no_grad;
      layer->router->weight().zero_();
    }
    EXPECT_NEAR(layer->forward(x).diagnostics.router_entropy.item<double>(),
                std::log(4.0), 1e-6);
  }
}

TEST(AuxLossTest, RouterEntropyHandComputed) {
  // A certain token adds 0 (its zero probabilities too, not NaN).
  const torch::Tensor probs =
      torch::tensor({{0.5, 0.5, 0.0}, {1.0, 0.0, 0.0}, {0.7, 0.2, 0.1}});
  const double third =
      -(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1));
  EXPECT_NEAR(RouterEntropy(probs).item<double>(),
              (std::log(2.0) + 0.0 + third) / 3.0, 1e-6);
}

double BalanceOf(const torch::Tensor& probs, const torch::Tensor& top) {
  return BalanceLoss(ComputeRoutingStatistics(probs, top)).item<double>();
}

TEST(AuxLossTest, BalanceLossHandComputed) {
  torch::Tensor probs = torch::tensor({{0.7, 0.2, 0.1}, {0.1, 0.6, 0.3}});
  torch::Tensor top = torch::tensor({{0}, {1}}, torch::kLong);
  // f = (1/2, 1/2, 0), P = (0.4, 0.4, 0.2): 3 * (0.2 + 0.2) = 1.2.
  EXPECT_NEAR(BalanceOf(probs, top), 1.2, 1e-6);
  // Top-2: f = (1/4, 2/4, 1/4): 3 * (0.1 + 0.2 + 0.05) = 1.05.
  torch::Tensor top2 = torch::tensor({{0, 1}, {1, 2}}, torch::kLong);
  EXPECT_NEAR(BalanceOf(probs, top2), 1.05, 1e-6);
  // Uniform routing gives exactly 1.
  torch::Tensor uniform = torch::full({4, 4}, 0.25);
  torch::Tensor each = torch::tensor({{0}, {1}, {2}, {3}}, torch::kLong);
  EXPECT_NEAR(BalanceOf(uniform, each), 1.0, 1e-6);
}

// Two data-parallel ranks, each holding half of the tokens of two MoE
// layers (4 and 3 experts), averaging their packed statistics as the
// trainer's one collective does: each rank's losses are the whole batch's,
// and the mean of their gradients is the whole batch's gradient.
TEST(AuxLossTest, GlobalStatisticsMatchTheWholeBatch) {
  torch::manual_seed(5);
  const std::vector<int64_t> experts = {4, 3};
  std::vector<torch::Tensor> logits, top;
  torch::Tensor whole = torch::zeros({});
  for (int64_t e : experts) {
    logits.push_back(torch::randn({8, e}, torch::requires_grad()));
    top.push_back(std::get<1>(torch::topk(logits.back().detach(), 2, -1)));
    whole = whole + BalanceLoss(ComputeRoutingStatistics(
                        torch::softmax(logits.back(), -1), top.back()));
  }
  std::vector<torch::Tensor> expected = torch::autograd::grad({whole}, logits);

  auto rank_statistics = [&](int rank) {
    std::vector<RoutingStatistics> layers;
    for (size_t l = 0; l < experts.size(); ++l) {
      layers.push_back(ComputeRoutingStatistics(
          torch::softmax(logits[l], -1).narrow(0, 4 * rank, 4),
          top[l].narrow(0, 4 * rank, 4)));
    }
    return layers;
  };
  const torch::Tensor mean_over_ranks =
      (PackRoutingStatistics(rank_statistics(0)) +
       PackRoutingStatistics(rank_statistics(1))) /
      2;
  EXPECT_EQ(mean_over_ranks.numel(), 2 * (4 + 3));
  std::vector<torch::Tensor> summed = {torch::zeros_like(logits[0]),
                                       torch::zeros_like(logits[1])};
  for (int rank = 0; rank < 2; ++rank) {
    std::vector<RoutingStatistics> global =
        GlobalRoutingStatistics(rank_statistics(rank), mean_over_ranks);
    torch::Tensor part = BalanceLoss(global[0]) + BalanceLoss(global[1]);
    EXPECT_NEAR(part.item<double>(), whole.item<double>(), 1e-6);
    std::vector<torch::Tensor> grads = torch::autograd::grad({part}, logits);
    for (size_t l = 0; l < experts.size(); ++l) summed[l] += grads[l];
  }
  for (size_t l = 0; l < experts.size(); ++l) {
    EXPECT_TRUE(torch::allclose(summed[l] / 2, expected[l], 1e-5, 1e-7));
    EXPECT_GT(expected[l].abs().max().item<double>(), 1e-4);
  }
}

TEST(AuxLossTest, ZLossHandComputed) {
  torch::Tensor logits = torch::tensor({{0.0, 0.0}, {std::log(3.0), 0.0}});
  // logsumexp: ln 2 and ln 4.
  const double expected =
      (std::pow(std::log(2.0), 2) + std::pow(std::log(4.0), 2)) / 2.0;
  EXPECT_NEAR(ZLoss(logits).item<double>(), expected, 1e-6);
}

TEST(AuxLossTest, LayerWeightsEachTerm) {
  torch::manual_seed(8);
  ModelConfig config = TinyConfig(FFN);
  MoeLayer layer(config);
  MoeOutput out = layer->forward(torch::randn({2, TokensPerImage(config), 16}));
  const double expected = 0.01 * out.balance_loss.item<double>() +
                          0.001 * out.z_loss.item<double>() +
                          0.03 * out.router_l2.item<double>();
  EXPECT_NEAR(out.aux_loss.item<double>(), expected, 1e-6);
  EXPECT_NEAR(out.balance_loss.item<double>(),
              BalanceLoss(out.routing).item<double>(), 1e-7);
  EXPECT_NEAR(out.router_l2.item<double>(),
              layer->router->weight().pow(2).sum().sqrt().item<double>(), 1e-6);
}

TEST(DispatchTest, CapacityKeepsEarliestTokens) {
  torch::Tensor top = torch::tensor({{0}, {0}, {0}, {1}}, torch::kLong);
  torch::Tensor gates = torch::ones({4, 1});
  DispatchPlan plan = PlanDispatch(top, gates, 2, /*capacity=*/2);
  EXPECT_TRUE(torch::equal(plan.keep,
                           torch::tensor({{true}, {true}, {false}, {true}})));
  EXPECT_TRUE(torch::equal(plan.token, torch::tensor({0, 1, 3}, torch::kLong)));
  EXPECT_EQ(plan.expert_begin, (std::vector<int64_t>{0, 2, 3}));
}

TEST(DispatchTest, CapacityPrefersFirstChoices) {
  // Token 1's first choice (expert 1) beats token 0's second choice.
  torch::Tensor top = torch::tensor({{0, 1}, {1, 0}}, torch::kLong);
  torch::Tensor gates = torch::tensor({{0.6, 0.4}, {0.7, 0.3}});
  DispatchPlan plan = PlanDispatch(top, gates, 2, /*capacity=*/1);
  EXPECT_TRUE(
      torch::equal(plan.keep, torch::tensor({{true, false}, {true, false}})));
  EXPECT_TRUE(torch::allclose(plan.gate, torch::tensor({0.6, 0.7})));
}

TEST(DispatchTest, DroplessKeepsAllSortedByExpertThenToken) {
  torch::Tensor top = torch::tensor({{2, 0}, {0, 1}, {2, 1}}, torch::kLong);
  torch::Tensor gates = torch::rand({3, 2});
  DispatchPlan plan = PlanDispatch(top, gates, 3, 0);
  EXPECT_TRUE(plan.keep.all().item<bool>());
  EXPECT_TRUE(torch::equal(plan.token,
                           torch::tensor({0, 1, 1, 2, 0, 2}, torch::kLong)));
  EXPECT_EQ(plan.expert_begin, (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(ExpertCapacity(0.0, 100, 2, 4), 0);
  EXPECT_EQ(ExpertCapacity(1.25, 65, 3, 7), 35);  // ceil(34.82)
}

}  // namespace
}  // namespace vit_moe::model
