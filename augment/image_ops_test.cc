#include "augment/image_ops.h"

#include <gtest/gtest.h>

#include <map>

namespace vit_moe::augment {
namespace {

// Distinct value per pixel: 1 + index in [C, H, W] order (mod 256).
Image Numbered(int channels, int height, int width) {
  Image image(channels, height, width);
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] = static_cast<uint8_t>((i + 1) % 256);
  }
  return image;
}

TEST(ImageOpsTest, RotateBy90MovesTopRightCornerToTopLeft) {
  for (int side : {4, 5}) {
    Image image = Numbered(1, side, side);
    Image rotated = WarpAffine(image, RotationMap(90.0, side, side));
    for (int y = 0; y < side; ++y) {
      for (int x = 0; x < side; ++x) {
        ASSERT_EQ(rotated.at(0, y, x), image.at(0, x, side - 1 - y))
            << "side " << side << " at " << y << "," << x;
      }
    }
    Image back = WarpAffine(rotated, RotationMap(-90.0, side, side));
    EXPECT_EQ(back.pixels, image.pixels);
  }
}

TEST(ImageOpsTest, RotationByZeroIsIdentity) {
  Image image = Numbered(3, 6, 7);
  EXPECT_EQ(WarpAffine(image, RotationMap(0.0, 6, 7)).pixels, image.pixels);
}

TEST(ImageOpsTest, TranslationMovesContentAndFillsZero) {
  Image image = Numbered(1, 4, 5);
  Image moved = WarpAffine(image, TranslationMap(2, 1));
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 5; ++x) {
      uint8_t expected = (x >= 2 && y >= 1) ? image.at(0, y - 1, x - 2) : 0;
      EXPECT_EQ(moved.at(0, y, x), expected);
    }
  }
}

TEST(ImageOpsTest, ShearXKeepsCentreRowAndShiftsOthers) {
  Image image = Numbered(1, 5, 9);
  Image sheared = WarpAffine(image, ShearXMap(1.0, 5, 9));
  for (int x = 0; x < 9; ++x) EXPECT_EQ(sheared.at(0, 2, x), image.at(0, 2, x));
  // One row below the centre moves right by one pixel.
  for (int x = 1; x < 9; ++x)
    EXPECT_EQ(sheared.at(0, 3, x), image.at(0, 3, x - 1));
}

TEST(ImageOpsTest, FlipMirrorsColumns) {
  Image image = Numbered(3, 2, 3);
  Image flipped = FlipHorizontal(image);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 3; ++x) {
        EXPECT_EQ(flipped.at(c, y, x), image.at(c, y, 2 - x));
      }
    }
  }
}

TEST(ImageOpsTest, PadAndCropGeometry) {
  const int pad = 2;
  Image image = Numbered(3, 6, 5);
  EXPECT_EQ(PadAndCrop(image, pad, pad, pad).pixels, image.pixels);
  for (int top : {0, 1, 3, 4}) {
    for (int left : {0, 2, 4}) {
      Image crop = PadAndCrop(image, pad, top, left);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < 6; ++y) {
          for (int x = 0; x < 5; ++x) {
            int sy = y + top - pad;
            int sx = x + left - pad;
            bool inside = sy >= 0 && sy < 6 && sx >= 0 && sx < 5;
            ASSERT_EQ(crop.at(c, y, x), inside ? image.at(c, sy, sx) : 0)
                << top << " " << left << " at " << c << "," << y << "," << x;
          }
        }
      }
    }
  }
}

TEST(ImageOpsTest, PosterizeKeepsTopBits) {
  Image image(1, 16, 16);
  for (int v = 0; v < 256; ++v) image.pixels[v] = static_cast<uint8_t>(v);
  for (int bits = 1; bits <= 8; ++bits) {
    Image posterized = image;
    Posterize(posterized, bits);
    int mask = (0xFF << (8 - bits)) & 0xFF;
    for (int v = 0; v < 256; ++v) {
      ASSERT_EQ(posterized.pixels[v], v & mask) << "bits " << bits;
    }
  }
}

TEST(ImageOpsTest, SolarizeInvertsAtAndAboveThreshold) {
  Image image(1, 16, 16);
  for (int v = 0; v < 256; ++v) image.pixels[v] = static_cast<uint8_t>(v);
  Solarize(image, 128);
  for (int v = 0; v < 256; ++v) {
    EXPECT_EQ(image.pixels[v], v >= 128 ? 255 - v : v) << v;
  }
  Image untouched = Numbered(1, 16, 16);
  Image copy = untouched;
  Solarize(copy, 256);
  EXPECT_EQ(copy.pixels, untouched.pixels);
}

TEST(ImageOpsTest, EqualizeSpreadsANarrowRampIntoAFlatHistogram) {
  // 64 levels (100..163), 85 pixels each: PIL's step is exactly 21.
  Image image(1, 85, 64);
  for (int y = 0; y < 85; ++y) {
    for (int x = 0; x < 64; ++x)
      image.at(0, y, x) = static_cast<uint8_t>(100 + x);
  }
  Equalize(image);
  std::map<int, int> histogram;
  for (uint8_t v : image.pixels) ++histogram[v];
  ASSERT_EQ(histogram.size(), 64u);
  for (const auto& [level, count] : histogram) EXPECT_EQ(count, 85) << level;
  EXPECT_EQ(histogram.begin()->first, 0);
  EXPECT_EQ(histogram.rbegin()->first, 255);
  // Evenly spaced: every gap is 255/63 rounded one way or the other.
  int previous = -1;
  for (const auto& [level, count] : histogram) {
    if (previous >= 0) {
      EXPECT_GE(level - previous, 3);
      EXPECT_LE(level - previous, 5);
    }
    previous = level;
  }
}

TEST(ImageOpsTest, AutoContrastStretchesEachChannel) {
  Image image(3, 1, 3);
  const uint8_t values[] = {50, 74, 100, 10, 10, 10, 0, 128, 255};
  std::copy(std::begin(values), std::end(values), image.pixels.begin());
  AutoContrast(image);
  const std::vector<uint8_t> expected = {0, 122, 255, 10, 10, 10, 0, 128, 255};
  EXPECT_EQ(image.pixels, expected);
}

TEST(ImageOpsTest, ColourAdjustmentsAtFactorOneAreIdentity) {
  Image image = Numbered(3, 8, 8);
  for (auto* adjust : {&AdjustBrightness, &AdjustContrast, &AdjustSaturation,
                       &AdjustSharpness}) {
    Image copy = image;
    adjust(copy, 1.0);
    EXPECT_EQ(copy.pixels, image.pixels);
  }
}

TEST(ImageOpsTest, ColourAdjustmentsAtFactorZeroGiveTheirDegenerateImage) {
  Image image = Numbered(3, 8, 8);
  Image black = image;
  AdjustBrightness(black, 0.0);
  EXPECT_EQ(black.pixels, std::vector<uint8_t>(black.pixels.size(), 0));

  Image grey = image;
  AdjustSaturation(grey, 0.0);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      EXPECT_EQ(grey.at(0, y, x), grey.at(1, y, x));
      EXPECT_EQ(grey.at(1, y, x), grey.at(2, y, x));
    }
  }

  Image flat = image;
  AdjustContrast(flat, 0.0);
  EXPECT_EQ(flat.pixels,
            std::vector<uint8_t>(flat.pixels.size(), flat.pixels[0]));

  Image one_channel = Numbered(1, 4, 4);
  Image saturated = one_channel;
  AdjustSaturation(saturated, 0.0);
  EXPECT_EQ(saturated.pixels, one_channel.pixels);
}

TEST(ImageOpsTest, SharpnessSmoothsInteriorAndKeepsBorder) {
  Image image(1, 3, 3);
  image.at(0, 1, 1) = 130;
  Image smooth = image;
  AdjustSharpness(smooth, 0.0);
  EXPECT_EQ(smooth.at(0, 1, 1), 50);  // 130 * 5 / 13
  EXPECT_EQ(smooth.at(0, 0, 0), 0);
}

}  // namespace
}  // namespace vit_moe::augment
