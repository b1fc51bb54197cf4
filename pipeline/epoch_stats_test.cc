#include "pipeline/epoch_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"

namespace vit_moe::pipeline {
namespace {

// Two MoE layers of four experts. Layer 0's slots over both steps are
// (4, 2, 1, 1) of 8: shares (1/2, 1/4, 1/8, 1/8), imbalance 0.5 / 0.25 = 2;
// layer 1's are even.
std::vector<StepStats> TwoSteps() {
  StepStats first;
  first.images = 4;
  first.correct = 1;
  first.loss = 2.0;
  first.balance_loss = 1.1;
  first.expert_load = {torch::tensor({3.0f, 1.0f, 0.0f, 0.0f}),
                       torch::tensor({1.0f, 1.0f, 1.0f, 1.0f})};
  first.routing_diagnostics = torch::tensor({{0.1f, 1.2f, 3.0f},  // layer 0
                                             {0.0f, 1.3f, 2.0f}});
  StepStats second = first;
  second.correct = 3;
  second.loss = 1.0;
  second.balance_loss = 1.3;
  second.expert_load = {torch::tensor({1.0f, 1.0f, 1.0f, 1.0f}),
                        torch::tensor({1.0f, 1.0f, 1.0f, 1.0f})};
  second.routing_diagnostics =
      torch::tensor({{0.3f, 1.0f, 5.0f}, {0.2f, 1.1f, 4.0f}});
  return {first, second};
}

TEST(EpochStatsTest, RoutingDiagnosticsAreOneRowPerMoeLayer) {
  model::ModelOutput out;
  for (float base : {0.0f, 10.0f}) {
    model::MoeDiagnostics& layer = out.diagnostics.emplace_back();
    layer.dropped_fraction = torch::tensor(base + 0.25f);
    layer.router_entropy = torch::tensor(base + 1.0f);
    layer.z_loss = torch::tensor(base + 2.0f);
  }
  const torch::Tensor rows = RoutingDiagnostics(out);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{2, kNumRoutingDiagnostics}));
  EXPECT_TRUE(torch::equal(
      rows, torch::tensor({{0.25f, 1.0f, 2.0f}, {10.25f, 11.0f, 12.0f}})));
  EXPECT_FALSE(RoutingDiagnostics(model::ModelOutput()).defined());
}

TEST(EpochStatsTest, FinishedEpochHasTheStepsMeans) {
  EpochAccumulator sums;
  for (const StepStats& step : TwoSteps()) Accumulate(step, &sums);
  const EpochMetrics metrics = FinishEpoch(3, 20, sums);
  EXPECT_EQ(metrics.epoch(), 3);
  EXPECT_DOUBLE_EQ(metrics.train_accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(metrics.train_loss(), 1.5);
  EXPECT_NEAR(metrics.balance_loss(), 1.2, 1e-12);
  ASSERT_EQ(metrics.expert_load_size(), 2);
  const LayerExpertLoad& skewed = metrics.expert_load(0);
  const LayerExpertLoad& even = metrics.expert_load(1);
  ASSERT_EQ(skewed.share_size(), 4);
  EXPECT_DOUBLE_EQ(skewed.share(0), 0.5);
  EXPECT_DOUBLE_EQ(skewed.share(3), 0.125);
  EXPECT_DOUBLE_EQ(skewed.load_imbalance(), 2.0);
  EXPECT_DOUBLE_EQ(even.load_imbalance(), 1.0);
  // Float inputs: means to float precision.
  EXPECT_NEAR(skewed.dropped_slot_fraction(), 0.2, 1e-6);
  EXPECT_NEAR(skewed.router_entropy(), 1.1, 1e-6);
  EXPECT_NEAR(skewed.z_loss(), 4.0, 1e-6);
  EXPECT_NEAR(even.dropped_slot_fraction(), 0.1, 1e-6);
  EXPECT_NEAR(even.router_entropy(), 1.2, 1e-6);
  EXPECT_NEAR(even.z_loss(), 3.0, 1e-6);
  EXPECT_EQ(FormatRoutingSummary(metrics),
            "routing drop 15.0% entropy 1.150 imbalance 1.50");
}

// A resumed epoch continues from the checkpointed sums (a proto round
// trip) and must report exactly what an uninterrupted one does.
TEST(EpochStatsTest, ResumedAccumulationEqualsUninterrupted) {
  const std::vector<StepStats> steps = TwoSteps();
  EpochAccumulator straight;
  for (const StepStats& step : steps) Accumulate(step, &straight);

  EpochAccumulator before;
  Accumulate(steps[0], &before);
  EpochAccumulator resumed;
  ASSERT_TRUE(resumed.ParseFromString(before.SerializeAsString()));
  Accumulate(steps[1], &resumed);

  ASSERT_EQ(resumed.routing_sums_size(), 2);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      FinishEpoch(1, 2, straight), FinishEpoch(1, 2, resumed)));
}

}  // namespace
}  // namespace vit_moe::pipeline
