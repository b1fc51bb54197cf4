#include "augment/randaugment.h"

#include <gtest/gtest.h>

namespace vit_moe::augment {
namespace {

Image RandomImage(int channels, int height, int width, uint64_t seed) {
  SampleRandom random(seed, 0, 0, RandomStream::kImageOps);
  Image image(channels, height, width);
  for (uint8_t& v : image.pixels) v = static_cast<uint8_t>(random.Below(256));
  return image;
}

TEST(RandAugmentTest, EveryOpWithAMagnitudeIsIdentityAtMagnitudeZero) {
  const RandAugmentOp ops[] = {
      RandAugmentOp::kIdentity,   RandAugmentOp::kRotate,
      RandAugmentOp::kSolarize,   RandAugmentOp::kColor,
      RandAugmentOp::kPosterize,  RandAugmentOp::kContrast,
      RandAugmentOp::kBrightness, RandAugmentOp::kSharpness,
      RandAugmentOp::kShearX,     RandAugmentOp::kShearY,
      RandAugmentOp::kTranslateX, RandAugmentOp::kTranslateY};
  for (int channels : {1, 3}) {
    Image image = RandomImage(channels, 32, 32, 7);
    for (RandAugmentOp op : ops) {
      for (bool negate : {false, true}) {
        Image copy = image;
        ApplyRandAugmentOp(copy, op, 0, negate);
        EXPECT_EQ(copy.pixels, image.pixels) << "op " << static_cast<int>(op);
      }
    }
  }
}

TEST(RandAugmentTest, IdentityOpIgnoresMagnitude) {
  Image image = RandomImage(3, 8, 8, 1);
  Image copy = image;
  ApplyRandAugmentOp(copy, RandAugmentOp::kIdentity, 30, true);
  EXPECT_EQ(copy.pixels, image.pixels);
}

TEST(RandAugmentTest, MagnitudesMapLikeTorchvision) {
  Image ramp(1, 16, 16);
  for (int v = 0; v < 256; ++v) ramp.pixels[v] = static_cast<uint8_t>(v);

  Image posterized = ramp;
  ApplyRandAugmentOp(posterized, RandAugmentOp::kPosterize, 30, false);
  for (int v = 0; v < 256; ++v) ASSERT_EQ(posterized.pixels[v], v & 0xF0);
  posterized = ramp;
  ApplyRandAugmentOp(posterized, RandAugmentOp::kPosterize, 9, false);
  for (int v = 0; v < 256; ++v) ASSERT_EQ(posterized.pixels[v], v & 0xFE);

  Image solarized = ramp;
  ApplyRandAugmentOp(solarized, RandAugmentOp::kSolarize, 30, false);
  for (int v = 0; v < 256; ++v) ASSERT_EQ(solarized.pixels[v], 255 - v);

  // Brightness at M=30: factor 1.9 up, 0.1 down.
  Image bright = ramp;
  ApplyRandAugmentOp(bright, RandAugmentOp::kBrightness, 30, false);
  EXPECT_EQ(bright.pixels[100], 190);
  Image dark = ramp;
  ApplyRandAugmentOp(dark, RandAugmentOp::kBrightness, 30, true);
  EXPECT_EQ(dark.pixels[100], 10);

  // Translate at M=30 on a 32-pixel side: int(150 / 331 * 32) = 14 pixels.
  Image dot(1, 32, 32);
  dot.at(0, 5, 3) = 255;
  Image moved = dot;
  ApplyRandAugmentOp(moved, RandAugmentOp::kTranslateX, 30, false);
  EXPECT_EQ(moved.at(0, 5, 17), 255);
  moved = dot;
  ApplyRandAugmentOp(moved, RandAugmentOp::kTranslateY, 30, false);
  EXPECT_EQ(moved.at(0, 19, 3), 255);
}

TEST(RandAugmentTest, SameRandomStateGivesSameImage) {
  Image image = RandomImage(3, 32, 32, 3);
  Image a = image;
  Image b = image;
  SampleRandom random_a(5, 1, 42, RandomStream::kImageOps);
  SampleRandom random_b(5, 1, 42, RandomStream::kImageOps);
  RandAugment(a, 2, 9, random_a);
  RandAugment(b, 2, 9, random_b);
  EXPECT_EQ(a.pixels, b.pixels);
}

}  // namespace
}  // namespace vit_moe::augment
