#include "pipeline/ema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

struct TwoTensorsImpl : torch::nn::Module {
  TwoTensorsImpl() {
    weight = register_parameter("weight", torch::zeros({3}));
    steps = register_buffer("steps", torch::zeros({1}, torch::kInt64));
  }
  torch::Tensor weight, steps;
};

void SetWeight(TwoTensorsImpl& m, double value) {
  torch::NoGradGuard no_grad;
  m.weight.fill_(value);
}

TEST(WeightAverageTest, DecayWarmsUpToItsCap) {
  TwoTensorsImpl m;
  WeightAverage warm(m, 0.999, 0.75);
  EXPECT_NEAR(warm.DecayAt(1), 1 - std::pow(2.0, -0.75), 1e-12);
  EXPECT_LT(warm.DecayAt(10), warm.DecayAt(100));
  EXPECT_DOUBLE_EQ(warm.DecayAt(1000000), 0.999);
  WeightAverage flat(m, 0.9, 0);
  EXPECT_DOUBLE_EQ(flat.DecayAt(1), 0.9);
}

TEST(WeightAverageTest, UpdateIsTheExponentialAverage) {
  TwoTensorsImpl m;
  WeightAverage average(m, 0.5, 0);
  SetWeight(m, 4);
  average.Update(1);  // 0.5 * 0 + 0.5 * 4
  SetWeight(m, 8);
  average.Update(2);  // 0.5 * 2 + 0.5 * 8
  NamedTensors state = average.StateTensors();
  ASSERT_EQ(state.size(), 1u);  // the integer buffer is not averaged
  EXPECT_EQ(state[0].first, "weight");
  EXPECT_TRUE(state[0].second.allclose(torch::full({3}, 5.0)));
  EXPECT_TRUE(m.weight.allclose(torch::full({3}, 8.0)));  // untouched
}

TEST(WeightAverageTest, SwapTwiceRestoresTheLiveWeights) {
  TwoTensorsImpl m;
  WeightAverage average(m, 0.5, 0);
  SetWeight(m, 6);
  average.Update(1);
  average.Swap();
  EXPECT_TRUE(m.weight.allclose(torch::full({3}, 3.0)));
  average.Swap();
  EXPECT_TRUE(m.weight.allclose(torch::full({3}, 6.0)));
  EXPECT_TRUE(average.StateTensors()[0].second.allclose(torch::full({3}, 3.0)));
}

TEST(WeightAverageTest, RestoresStateAndNamesBadTensors) {
  TwoTensorsImpl m;
  WeightAverage average(m, 0.5, 0);
  ASSERT_TRUE(
      average.LoadStateTensors({{"weight", torch::full({3}, 7.0)}}).ok());
  EXPECT_TRUE(average.StateTensors()[0].second.equal(torch::full({3}, 7.0)));

  absl::Status missing = average.LoadStateTensors({});
  EXPECT_THAT(missing.message(), HasSubstr("weight is missing"));
  absl::Status shape =
      average.LoadStateTensors({{"weight", torch::zeros({4})}});
  EXPECT_THAT(shape.message(), HasSubstr("weight has shape [4]"));
  absl::Status extra = average.LoadStateTensors(
      {{"weight", torch::zeros({3})}, {"bias", torch::zeros({3})}});
  EXPECT_THAT(extra.message(), HasSubstr("bias matches no model tensor"));
  // A failed load changes nothing.
  EXPECT_TRUE(average.StateTensors()[0].second.equal(torch::full({3}, 7.0)));
}

}  // namespace
}  // namespace vit_moe::pipeline
