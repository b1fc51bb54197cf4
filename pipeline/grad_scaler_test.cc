#include "pipeline/grad_scaler.h"

#include <gtest/gtest.h>

#include <limits>

namespace vit_moe::pipeline {
namespace {

torch::Tensor ParameterWithGrad(torch::Tensor grad) {
  torch::Tensor p = torch::zeros_like(grad).requires_grad_();
  p.mutable_grad() = grad;
  return p;
}

TEST(GradScalerTest, ScalesTheLossAndUnscalesTheGradients) {
  GradScaler scaler(GradScalerState{1024.0, 0, 0}, 3);
  torch::Tensor loss = torch::tensor(0.5);
  EXPECT_DOUBLE_EQ(scaler.Scale(loss).item<double>(), 512.0);

  // The gradient of the scaled loss, back at its true size.
  torch::Tensor w = torch::tensor({2.0f, -3.0f}).requires_grad_();
  scaler.Scale((w * w).sum()).backward();
  EXPECT_TRUE(scaler.UnscaleAndUpdate({w}));
  EXPECT_TRUE(torch::equal(w.grad(), torch::tensor({4.0f, -6.0f})));
  EXPECT_EQ(scaler.state().good_steps, 1);
  EXPECT_EQ(scaler.state().skipped_steps, 0);
}

TEST(GradScalerTest, OverflowSkipsTheStepAndHalvesTheScale) {
  GradScaler scaler(GradScalerState{1024.0, 2, 0}, 3);
  const float inf = std::numeric_limits<float>::infinity();
  torch::Tensor ok = ParameterWithGrad(torch::ones({3}));
  torch::Tensor bad = ParameterWithGrad(torch::tensor({1.0f, inf}));
  torch::Tensor none = torch::zeros({2}).requires_grad_();  // no gradient
  EXPECT_FALSE(scaler.UnscaleAndUpdate({ok, bad, none}));
  EXPECT_DOUBLE_EQ(scaler.state().scale, 512.0);
  EXPECT_EQ(scaler.state().good_steps, 0);
  EXPECT_EQ(scaler.state().skipped_steps, 1);

  torch::Tensor nan = ParameterWithGrad(
      torch::tensor({std::numeric_limits<float>::quiet_NaN()}));
  EXPECT_FALSE(scaler.UnscaleAndUpdate({nan}));
  EXPECT_DOUBLE_EQ(scaler.state().scale, 256.0);
  EXPECT_EQ(scaler.state().skipped_steps, 2);
}

TEST(GradScalerTest, GrowsAfterTheIntervalOfFiniteSteps) {
  GradScaler scaler(GradScalerState{8.0, 0, 0}, 3);
  for (int step = 1; step <= 6; ++step) {
    torch::Tensor p = ParameterWithGrad(torch::ones({2}));
    ASSERT_TRUE(scaler.UnscaleAndUpdate({p}));
    EXPECT_DOUBLE_EQ(scaler.state().scale, step < 3   ? 8.0
                                           : step < 6 ? 16.0
                                                      : 32.0)
        << "step " << step;
  }
}

TEST(GradScalerTest, ResumesFromItsState) {
  GradScaler a(GradScalerState{64.0, 0, 0}, 2);
  torch::Tensor p = ParameterWithGrad(torch::ones({1}));
  ASSERT_TRUE(a.UnscaleAndUpdate({p}));
  GradScaler b(a.state(), 2);
  torch::Tensor q = ParameterWithGrad(torch::ones({1}));
  torch::Tensor r = ParameterWithGrad(torch::ones({1}));
  ASSERT_TRUE(a.UnscaleAndUpdate({q}));
  ASSERT_TRUE(b.UnscaleAndUpdate({r}));
  EXPECT_DOUBLE_EQ(a.state().scale, 128.0);
  EXPECT_DOUBLE_EQ(b.state().scale, a.state().scale);
  EXPECT_EQ(b.state().good_steps, a.state().good_steps);
}

TEST(GradScalerTest, NeverScalesBelowOne) {
  GradScaler scaler(GradScalerState{1.0, 0, 0}, 3);
  torch::Tensor bad = ParameterWithGrad(
      torch::tensor({std::numeric_limits<float>::infinity()}));
  EXPECT_FALSE(scaler.UnscaleAndUpdate({bad}));
  EXPECT_DOUBLE_EQ(scaler.state().scale, 1.0);
}

}  // namespace
}  // namespace vit_moe::pipeline
