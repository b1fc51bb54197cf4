#include "data/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "data/random.h"

namespace vit_moe::data {
namespace {

ImageSet Labels(int per_class, int classes) {
  ImageSet set;
  for (int i = 0; i < per_class * classes; ++i) {
    set.labels.push_back(static_cast<uint8_t>(i % classes));
  }
  return set;
}

TEST(SplitTest, StratifiedExactQuotasAndDisjointCover) {
  ImageSet set = Labels(60, 10);
  auto split = SplitTrainValidation(set, 10, 1.0 / 12.0, 7);
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(split->validation.size(), 50u);
  EXPECT_EQ(split->train.size(), 550u);
  std::map<int, int> per_class;
  for (int64_t i : split->validation) ++per_class[set.labels[i]];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 5) << c;
  std::set<int64_t> all(split->train.begin(), split->train.end());
  all.insert(split->validation.begin(), split->validation.end());
  EXPECT_EQ(all.size(), 600u);
  EXPECT_TRUE(std::is_sorted(split->train.begin(), split->train.end()));
}

TEST(SplitTest, SeedDecidesTheSplit) {
  ImageSet set = Labels(50, 4);
  auto a = SplitTrainValidation(set, 4, 0.2, 1);
  auto b = SplitTrainValidation(set, 4, 0.2, 1);
  auto c = SplitTrainValidation(set, 4, 0.2, 2);
  EXPECT_EQ(a->validation, b->validation);
  EXPECT_NE(a->validation, c->validation);
}

TEST(SplitTest, UnevenClassesApportionByLargestRemainder) {
  ImageSet set;
  for (int i = 0; i < 7; ++i) set.labels.push_back(0);
  for (int i = 0; i < 13; ++i) set.labels.push_back(1);
  auto split = SplitTrainValidation(set, 2, 0.25, 0);  // 5 = 1.75 + 3.25
  ASSERT_TRUE(split.ok());
  int zeros = 0;
  for (int64_t i : split->validation) zeros += set.labels[i] == 0;
  EXPECT_EQ(split->validation.size(), 5u);
  EXPECT_EQ(zeros, 2);
}

TEST(SplitTest, GroupsStayWholeAndEveryClassKeepsTraining) {
  ImageSet set;
  SplitMix64 rng(5);
  for (int c = 0; c < 5; ++c) {
    for (int track = 0; track < 8; ++track) {
      int frames = 1 + static_cast<int>(rng.Uniform(6));
      for (int f = 0; f < frames; ++f) {
        set.labels.push_back(static_cast<uint8_t>(c));
        set.groups.push_back(c * 100000 + track);
      }
    }
  }
  auto split = SplitTrainValidation(set, 5, 0.25, 3);
  ASSERT_TRUE(split.ok()) << split.status();
  std::set<int64_t> train_groups, validation_groups;
  for (int64_t i : split->train) train_groups.insert(set.groups[i]);
  for (int64_t i : split->validation) validation_groups.insert(set.groups[i]);
  for (int64_t g : validation_groups) EXPECT_EQ(train_groups.count(g), 0u) << g;
  for (int c = 0; c < 5; ++c) {
    bool in_train = false, in_validation = false;
    for (int64_t g : train_groups) in_train |= g / 100000 == c;
    for (int64_t g : validation_groups) in_validation |= g / 100000 == c;
    EXPECT_TRUE(in_train && in_validation) << c;
  }
}

TEST(SplitTest, RejectsMixedGroupsAndBadFraction) {
  ImageSet set;
  set.labels = {0, 1};
  set.groups = {4, 4};
  EXPECT_THAT(SplitTrainValidation(set, 2, 0.5, 0).status().message(),
              ::testing::HasSubstr("group 4 holds images of classes 0 and 1"));
  EXPECT_FALSE(SplitTrainValidation(Labels(2, 2), 2, 1.0, 0).ok());
  EXPECT_FALSE(SplitTrainValidation(Labels(2, 2), 1, 0.5, 0).ok());
}

}  // namespace
}  // namespace vit_moe::data
