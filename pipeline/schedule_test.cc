#include "pipeline/schedule.h"

#include <gtest/gtest.h>

namespace vit_moe::pipeline {
namespace {

TEST(ScheduleTest, WarmupThenCosineToFloor) {
  ScheduleConfig config;
  config.set_epochs(10);
  config.set_warmup_epochs(2);
  config.set_min_lr_ratio(0.1);
  LearningRateSchedule schedule(1.0, config, /*steps_per_epoch=*/5);
  EXPECT_EQ(schedule.total_steps(), 50);
  EXPECT_EQ(schedule.warmup_steps(), 10);
  EXPECT_DOUBLE_EQ(schedule.At(0), 0.1);
  EXPECT_DOUBLE_EQ(schedule.At(4), 0.5);
  EXPECT_DOUBLE_EQ(schedule.At(10), 1.0);
  EXPECT_NEAR(schedule.At(49), 0.1, 1e-12);
  for (int64_t step = 10; step < 49; ++step) {
    EXPECT_GT(schedule.At(step), schedule.At(step + 1)) << step;
  }
  // Step 29 is 19/39 of the way through the decay: cos(0.487 pi) = 0.04.
  EXPECT_NEAR(schedule.At(29), 0.1 + 0.9 * 0.5 * (1 + 0.0403), 1e-3);
}

TEST(ScheduleTest, NoWarmupStartsAtPeak) {
  ScheduleConfig config;
  config.set_epochs(1);
  config.set_min_lr_ratio(0);
  LearningRateSchedule schedule(2.0, config, 3);
  EXPECT_DOUBLE_EQ(schedule.At(0), 2.0);
  EXPECT_NEAR(schedule.At(2), 0.0, 1e-12);
}

TEST(ScheduleTest, CadenceAlwaysEvaluatesLastEpoch) {
  EvalCadence seed;
  seed.set_start_epoch(50);
  seed.set_every_epochs(2);
  // Shorter than the first evaluation epoch: the seed crashed here.
  for (int epoch = 1; epoch < 30; ++epoch) {
    EXPECT_FALSE(IsEvaluationEpoch(seed, epoch, 30));
  }
  EXPECT_TRUE(IsEvaluationEpoch(seed, 30, 30));
  EXPECT_FALSE(IsEvaluationEpoch(seed, 49, 100));
  EXPECT_TRUE(IsEvaluationEpoch(seed, 50, 100));
  EXPECT_FALSE(IsEvaluationEpoch(seed, 51, 100));
  EXPECT_TRUE(IsEvaluationEpoch(seed, 52, 100));
  EXPECT_TRUE(IsEvaluationEpoch(seed, 99, 99));
}

}  // namespace
}  // namespace vit_moe::pipeline
