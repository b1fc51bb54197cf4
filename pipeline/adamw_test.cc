#include "pipeline/adamw.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vit_moe::pipeline {
namespace {

OptimizerConfig Betas() {
  OptimizerConfig config;
  config.set_beta1(0.9);
  config.set_beta2(0.999);
  config.set_epsilon(1e-8);
  return config;
}

// Same arithmetic as LibTorch's own AdamW, group by group; a group's
// lr_scale is its own learning rate there.
TEST(AdamWTest, MatchesTorchAdamWWithParameterGroups) {
  torch::manual_seed(3);
  torch::Tensor a = torch::randn({4, 3}).requires_grad_();
  torch::Tensor b = torch::randn({5}).requires_grad_();
  torch::Tensor a_ref = a.detach().clone().requires_grad_();
  torch::Tensor b_ref = b.detach().clone().requires_grad_();

  AdamW ours({{{{"a", a}}, 0.1}, {{{"b", b}}, 0.2, 0.5}}, Betas());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a_ref},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(0.01).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{b_ref},
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(0.005).weight_decay(0.2)));
  torch::optim::AdamW reference(std::move(groups),
                                torch::optim::AdamWOptions(0.01));

  for (int step = 0; step < 5; ++step) {
    ours.ZeroGrad();
    ((a * a).sum() + (b.sin()).sum()).backward();
    ours.Step(0.01);
    reference.zero_grad();
    ((a_ref * a_ref).sum() + (b_ref.sin()).sum()).backward();
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(a, a_ref, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(b, b_ref, 1e-6, 1e-7));
}

TEST(AdamWTest, SkipsParametersWithoutGradient) {
  torch::Tensor used = torch::ones({2}).requires_grad_();
  torch::Tensor idle = torch::ones({2}).requires_grad_();
  AdamW optimizer({{{{"used", used}, {"idle", idle}}, 0.5}}, Betas());
  used.sum().backward();
  optimizer.Step(0.1);
  EXPECT_TRUE(torch::equal(idle, torch::ones({2})));  // no decay either
  EXPECT_FALSE(torch::equal(used, torch::ones({2})));
  NamedTensors state = optimizer.StateTensors();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].first, "used/exp_avg");
  EXPECT_EQ(state[2].second.item<int64_t>(), 1);
}

TEST(AdamWTest, RestoredStateContinuesBitwise) {
  auto run = [](AdamW& optimizer, torch::Tensor& p, int steps) {
    for (int i = 0; i < steps; ++i) {
      optimizer.ZeroGrad();
      (p * p * p).sum().backward();
      optimizer.Step(0.05);
    }
  };
  torch::Tensor p = torch::linspace(-1, 1, 6).requires_grad_();
  AdamW straight({{{{"p", p}}, 0.05}}, Betas());
  run(straight, p, 6);

  torch::Tensor q = torch::linspace(-1, 1, 6).requires_grad_();
  AdamW first({{{{"p", q}}, 0.05}}, Betas());
  run(first, q, 3);
  NamedTensors saved;
  for (auto& [name, t] : first.StateTensors())
    saved.emplace_back(name, t.clone());
  AdamW second({{{{"p", q}}, 0.05}}, Betas());
  ASSERT_TRUE(second.LoadStateTensors(saved).ok());
  run(second, q, 3);
  EXPECT_TRUE(torch::equal(p, q));
}

TEST(AdamWTest, LoadRejectsMismatchedState) {
  torch::Tensor p = torch::zeros({3}).requires_grad_();
  AdamW optimizer({{{{"p", p}}, 0.0}}, Betas());
  NamedTensors wrong_shape = {{"p/exp_avg", torch::zeros({4})},
                              {"p/exp_avg_sq", torch::zeros({4})},
                              {"p/step", torch::tensor(int64_t{1})}};
  EXPECT_FALSE(optimizer.LoadStateTensors(wrong_shape).ok());
  NamedTensors stranger = {{"q/exp_avg", torch::zeros({3})}};
  absl::Status status = optimizer.LoadStateTensors(stranger);
  EXPECT_NE(status.message().find("q/exp_avg"), std::string::npos) << status;
}

TEST(ClipGradientNormTest, ScalesToMaxNormAndReportsNonFinite) {
  torch::Tensor a = torch::zeros({2}).requires_grad_();
  torch::Tensor b = torch::zeros({1}).requires_grad_();
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  EXPECT_NEAR(ClipGradientNorm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<float>(), 0.6, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<float>(), 0.8, 1e-5);
  EXPECT_NEAR(ClipGradientNorm({a, b}, 0.0), 1.0, 1e-5);  // 0: measure only

  b.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_FALSE(std::isfinite(ClipGradientNorm({a, b}, 1.0)));
}

}  // namespace
}  // namespace vit_moe::pipeline
