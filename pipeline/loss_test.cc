#include "pipeline/loss.h"

#include <gtest/gtest.h>

namespace vit_moe::pipeline {
namespace {

TEST(LossTest, OneHotWithoutSmoothingIsCrossEntropy) {
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({6, 4});
  torch::Tensor labels = torch::tensor({0, 1, 2, 3, 1, 0}, torch::kInt64);
  torch::Tensor one_hot = torch::one_hot(labels, 4).to(torch::kFloat32);
  EXPECT_TRUE(
      torch::allclose(SmoothedSoftTargetCrossEntropy(logits, one_hot, 0.0),
                      torch::nn::functional::cross_entropy(logits, labels)));
}

TEST(LossTest, SmoothingGivesOffClassesEpsilonOverKMinusOne) {
  torch::Tensor logits = torch::tensor({{2.0f, 0.0f, -1.0f}});
  torch::Tensor target = torch::tensor({{1.0f, 0.0f, 0.0f}});
  torch::Tensor log_p = torch::log_softmax(logits, 1)[0];
  double expected =
      -(0.8 * log_p[0].item<double>() + 0.1 * log_p[1].item<double>() +
        0.1 * log_p[2].item<double>());
  EXPECT_NEAR(
      SmoothedSoftTargetCrossEntropy(logits, target, 0.2).item<double>(),
      expected, 1e-6);
}

TEST(LossTest, MixedTargetsAreLinearInTheMix) {
  torch::Tensor logits = torch::tensor({{0.5f, 1.5f, -0.5f, 0.0f}});
  torch::Tensor a = torch::tensor({{1.0f, 0.0f, 0.0f, 0.0f}});
  torch::Tensor b = torch::tensor({{0.0f, 0.0f, 1.0f, 0.0f}});
  double mixed = SmoothedSoftTargetCrossEntropy(logits, 0.3 * a + 0.7 * b, 0.1)
                     .item<double>();
  double separate =
      0.3 * SmoothedSoftTargetCrossEntropy(logits, a, 0.1).item<double>() +
      0.7 * SmoothedSoftTargetCrossEntropy(logits, b, 0.1).item<double>();
  EXPECT_NEAR(mixed, separate, 1e-6);
}

}  // namespace
}  // namespace vit_moe::pipeline
