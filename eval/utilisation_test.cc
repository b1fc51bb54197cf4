#include "eval/utilisation.h"

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

TEST(UtilisationTest, CountsSlotsPerLayerAndClass) {
  UtilisationCounter counter(/*num_classes=*/3, /*num_experts=*/3);
  // One MoE layer; 2 images (classes 0 and 2), 2 tokens, top-2.
  const torch::Tensor experts =
      torch::tensor({0, 1, 0, 2, 1, 1, 1, 2}, torch::kInt64).view({2, 2, 2});
  counter.Add({experts}, torch::tensor({0, 2}, torch::kInt64));
  counter.Add({experts.slice(0, 0, 1)}, torch::tensor({0}, torch::kInt64));
  const auto result = counter.Result();
  ASSERT_EQ(result.size(), 1u);
  // Slots: class 0 -> {0,1,0,2} twice; class 2 -> {1,1,1,2}.
  ASSERT_EQ(result[0].share_size(), 3);
  EXPECT_DOUBLE_EQ(result[0].share(0), 4.0 / 12);
  EXPECT_DOUBLE_EQ(result[0].share(1), 5.0 / 12);
  EXPECT_DOUBLE_EQ(result[0].share(2), 3.0 / 12);
  ASSERT_EQ(result[0].per_class_share_size(), 9);
  EXPECT_DOUBLE_EQ(result[0].per_class_share(0), 0.5);   // class 0, expert 0
  EXPECT_DOUBLE_EQ(result[0].per_class_share(2), 0.25);  // class 0, expert 2
  EXPECT_DOUBLE_EQ(result[0].per_class_share(3), 0.0);   // class 1: no images
  EXPECT_DOUBLE_EQ(result[0].per_class_share(7), 0.75);  // class 2, expert 1
}

}  // namespace
}  // namespace vit_moe::eval
