#include "augment/policy.h"

#include <gtest/gtest.h>

namespace vit_moe::augment {
namespace {

TEST(PolicyTest, SeedPresetIsTheSeedRecipe) {
  AugmentConfig config;
  config.set_preset("seed");
  absl::StatusOr<AugmentConfig> resolved =
      ResolveAugmentConfig(config, data::CIFAR10);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->preset(), "seed");
  EXPECT_EQ(resolved->randaugment_ops(), 2);
  EXPECT_EQ(resolved->randaugment_magnitude(), 9);
  EXPECT_EQ(resolved->crop_padding(), 4);
  EXPECT_TRUE(resolved->horizontal_flip());
  EXPECT_DOUBLE_EQ(resolved->color_jitter(), 0.1);
  EXPECT_DOUBLE_EQ(resolved->rotation_degrees(), 15);
  EXPECT_DOUBLE_EQ(resolved->erasing_probability(), 0.3);
  EXPECT_DOUBLE_EQ(resolved->erasing_area_min(), 0.02);
  EXPECT_DOUBLE_EQ(resolved->erasing_area_max(), 0.2);
  EXPECT_DOUBLE_EQ(resolved->cutmix_alpha(), 1.0);
  EXPECT_DOUBLE_EQ(resolved->cutmix_probability(), 0.5);
  EXPECT_DOUBLE_EQ(resolved->mixup_probability(), 0);
}

TEST(PolicyTest, EmptyPresetMeansSeed) {
  absl::StatusOr<AugmentConfig> resolved =
      ResolveAugmentConfig(AugmentConfig(), data::FASHION_MNIST);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->preset(), "seed");
}

TEST(PolicyTest, FlipFollowsTheDatasetUnlessSet) {
  for (const char* preset : {"seed", "light"}) {
    AugmentConfig config;
    config.set_preset(preset);
    EXPECT_FALSE(ResolveAugmentConfig(config, data::GTSRB)->horizontal_flip());
    EXPECT_TRUE(ResolveAugmentConfig(config, data::CIFAR10)->horizontal_flip());
    EXPECT_TRUE(
        ResolveAugmentConfig(config, data::FASHION_MNIST)->horizontal_flip());
    config.set_horizontal_flip(false);
    EXPECT_FALSE(
        ResolveAugmentConfig(config, data::CIFAR10)->horizontal_flip());
  }
  AugmentConfig none;
  none.set_preset("none");
  EXPECT_FALSE(ResolveAugmentConfig(none, data::CIFAR10)->horizontal_flip());
}

TEST(PolicyTest, FieldsOverrideThePreset) {
  AugmentConfig config;
  config.set_preset("light");
  config.set_randaugment_ops(1);
  config.set_randaugment_magnitude(0);
  config.set_mixup_probability(0.2);
  config.set_crop_padding(0);
  absl::StatusOr<AugmentConfig> resolved =
      ResolveAugmentConfig(config, data::CIFAR10);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->randaugment_ops(), 1);
  EXPECT_EQ(resolved->randaugment_magnitude(), 0);
  EXPECT_EQ(resolved->crop_padding(), 0);
  EXPECT_DOUBLE_EQ(resolved->mixup_probability(), 0.2);
  EXPECT_GT(resolved->mixup_alpha(), 0);
}

TEST(PolicyTest, BadValuesNameTheField) {
  AugmentConfig unknown;
  unknown.set_preset("heavy");
  absl::Status status = ResolveAugmentConfig(unknown, data::CIFAR10).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("augment.preset"), std::string::npos);

  AugmentConfig magnitude;
  magnitude.set_randaugment_magnitude(31);
  status = ResolveAugmentConfig(magnitude, data::CIFAR10).status();
  EXPECT_NE(status.message().find("augment.randaugment_magnitude"),
            std::string::npos)
      << status;

  AugmentConfig area;
  area.set_erasing_area_min(0.5);
  area.set_erasing_area_max(0.1);
  status = ResolveAugmentConfig(area, data::CIFAR10).status();
  EXPECT_NE(status.message().find("erasing_area"), std::string::npos) << status;

  AugmentConfig both;
  both.set_cutmix_probability(0.7);
  both.set_mixup_probability(0.7);
  status = ResolveAugmentConfig(both, data::CIFAR10).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);

  AugmentConfig alpha;
  alpha.set_cutmix_alpha(0);
  status = ResolveAugmentConfig(alpha, data::CIFAR10).status();
  EXPECT_NE(status.message().find("augment.cutmix_alpha"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe::augment
