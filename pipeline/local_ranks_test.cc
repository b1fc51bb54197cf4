#include "pipeline/local_ranks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vit_moe::pipeline {
namespace {

using ::testing::HasSubstr;

TrainConfig Config(int threads, int batch, int accumulate) {
  TrainConfig config;
  config.set_threads(threads);
  config.set_batch_size(batch);
  config.set_accumulate_steps(accumulate);
  return config;
}

TEST(RanksForCoresTest, AllCoresOfACpuTrainOneRankPerCore) {
  LocalRanks two = RanksForCores(Config(0, 128, 1), true, 2);
  EXPECT_EQ(two.ranks, 2);
  EXPECT_EQ(two.reason, "");
  EXPECT_EQ(RanksForCores(Config(0, 128, 2), true, 4).ranks, 4);
}

TEST(RanksForCoresTest, ThreadsSetAGpuOrOneCoreTrainAlone) {
  EXPECT_EQ(RanksForCores(Config(2, 128, 1), true, 2).ranks, 1);
  EXPECT_EQ(RanksForCores(Config(1, 128, 1), true, 8).ranks, 1);
  EXPECT_EQ(RanksForCores(Config(0, 128, 1), false, 8).ranks, 1);
  EXPECT_EQ(RanksForCores(Config(0, 128, 1), true, 1).ranks, 1);
  EXPECT_EQ(RanksForCores(Config(0, 128, 1), true, 1).reason, "");
}

TEST(RanksForCoresTest, ABatchThatDoesNotDivideTakesFewerRanks) {
  // 36 images in 2 micro-batches: 8 x 2 and 7 x 2 do not divide 36, 6 x 2
  // does.
  LocalRanks six = RanksForCores(Config(0, 36, 2), true, 8);
  EXPECT_EQ(six.ranks, 6);
  EXPECT_THAT(six.reason, HasSubstr("does not divide over 8 ranks: 6 ranks"));
  LocalRanks none = RanksForCores(Config(0, 7, 1), true, 4);
  EXPECT_EQ(none.ranks, 1);
  EXPECT_THAT(none.reason, HasSubstr("one process of 4 threads"));
}

}  // namespace
}  // namespace vit_moe::pipeline
