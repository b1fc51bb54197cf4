#include "eval/ood_scores.h"

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(OodScoresTest, LogitScores) {
  SplitOutputs out;
  out.logits = torch::tensor({{2.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}});
  out.features = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  out.router_entropy = torch::tensor({0.5f, 1.0f});
  const OodFeatureFit fit = FitOodFeatures(
      out.features, torch::tensor({0, 1}, torch::kInt64), 2, /*knn_k=*/1);
  const auto scores = OodScores(out, fit);
  ASSERT_EQ(scores.size(), 6u);
  const double e2 = std::exp(2.0);
  EXPECT_NEAR(scores[0].second[0].item<double>(), e2 / (e2 + 2), 1e-6);
  EXPECT_NEAR(scores[0].second[1].item<double>(), 1.0 / 3, 1e-6);
  EXPECT_EQ(scores[1].first, "max_logit");
  EXPECT_NEAR(scores[1].second[0].item<double>(), 2, 1e-6);
  EXPECT_EQ(scores[2].first, "energy");
  EXPECT_NEAR(scores[2].second[1].item<double>(), 1 + std::log(3.0), 1e-6);
  EXPECT_EQ(scores[5].first, "router_entropy");
  EXPECT_NEAR(scores[5].second[1].item<double>(), -1, 1e-6);
  // The fit's own images: zero distance to their class mean and to their
  // nearest neighbour (themselves).
  EXPECT_NEAR(scores[3].second[0].item<double>(), 0, 1e-9);
  EXPECT_NEAR(scores[4].second[1].item<double>(), 0, 1e-6);
  out.router_entropy = torch::Tensor();
  EXPECT_EQ(OodScores(out, fit).size(), 5u);
}

TEST(OodScoresTest, MahalanobisAndKnnMatchTheirDefinitions) {
  torch::manual_seed(3);
  const int64_t m = 200, d = 5;
  const torch::Tensor labels = torch::randint(0, 3, {m}, torch::kInt64);
  const torch::Tensor train =
      torch::randn({m, d}) * torch::tensor({1.0f, 2.0f, 0.5f, 1.0f, 3.0f}) +
      labels.unsqueeze(1).to(torch::kFloat32);
  const OodFeatureFit fit = FitOodFeatures(train, labels, 3, /*knn_k=*/7);
  SplitOutputs query;
  query.features = torch::randn({9, d}) * 2;
  query.logits = torch::zeros({9, 3});
  const auto scores = OodScores(query, fit);

  // Explicitly: class means, shared covariance, its inverse, every class.
  const torch::Tensor f = train.to(torch::kFloat64);
  torch::Tensor cov = torch::zeros({d, d}, torch::kFloat64);
  std::vector<torch::Tensor> means;
  for (int c = 0; c < 3; ++c) {
    const torch::Tensor rows = f.index({labels == c});
    means.push_back(rows.mean(0));
    const torch::Tensor centred = rows - means.back();
    cov += torch::matmul(centred.t(), centred);
  }
  const torch::Tensor inverse = torch::inverse(cov / m);
  const torch::Tensor q = query.features.to(torch::kFloat64);
  for (int64_t i = 0; i < 9; ++i) {
    double best = 1e300;
    for (const torch::Tensor& mean : means) {
      const torch::Tensor diff = q[i] - mean;
      best = std::min(
          best, torch::dot(diff, torch::mv(inverse, diff)).item<double>());
    }
    EXPECT_NEAR(scores[3].second[i].item<double>(), -best, 1e-6 * best);
    // KNN: the 7th smallest distance between unit vectors.
    const torch::Tensor unit_q = q[i] / q[i].norm();
    const torch::Tensor unit_t = f / f.norm(2, 1, true);
    const torch::Tensor dist = (unit_t - unit_q).norm(2, 1);
    const double kth = std::get<0>(dist.sort()).index({6}).item<double>();
    EXPECT_NEAR(scores[4].second[i].item<double>(), -kth, 1e-5);
  }
}

}  // namespace
}  // namespace vit_moe::eval
