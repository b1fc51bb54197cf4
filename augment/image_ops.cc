#include "augment/image_ops.h"

#include <glog/logging.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace vit_moe::augment {
namespace {

uint8_t RoundToByte(double value) {
  return static_cast<uint8_t>(std::clamp(std::nearbyint(value), 0.0, 255.0));
}

// factor * image + (1 - factor) * degenerate, per value.
void BlendWith(Image& image, const std::vector<double>& degenerate,
               double factor) {
  for (size_t i = 0; i < image.pixels.size(); ++i) {
    image.pixels[i] =
        RoundToByte(factor * image.pixels[i] + (1.0 - factor) * degenerate[i]);
  }
}

// Luma of pixel (y, x); one-channel images are their own grey.
double Grey(const Image& image, int y, int x) {
  if (image.channels == 1) return image.at(0, y, x);
  return 0.2989 * image.at(0, y, x) + 0.587 * image.at(1, y, x) +
         0.114 * image.at(2, y, x);
}

}  // namespace

InverseAffine RotationMap(double degrees, int height, int width) {
  double radians = degrees * M_PI / 180.0;
  double c = std::cos(radians);
  double s = std::sin(radians);
  double cx = (width - 1) / 2.0;
  double cy = (height - 1) / 2.0;
  // With y pointing down, turning the content counter-clockwise by theta
  // means output offset d samples source offset R(theta)^T d.
  InverseAffine map;
  map.xx = c;
  map.xy = -s;
  map.x0 = cx - c * cx + s * cy;
  map.yx = s;
  map.yy = c;
  map.y0 = cy - s * cx - c * cy;
  return map;
}

InverseAffine ShearXMap(double factor, int height, int width) {
  InverseAffine map;
  map.xy = -factor;
  map.x0 = factor * (height - 1) / 2.0;
  return map;
}

InverseAffine ShearYMap(double factor, int height, int width) {
  InverseAffine map;
  map.yx = -factor;
  map.y0 = factor * (width - 1) / 2.0;
  return map;
}

InverseAffine TranslationMap(double dx, double dy) {
  InverseAffine map;
  map.x0 = -dx;
  map.y0 = -dy;
  return map;
}

Image WarpAffine(const Image& image, const InverseAffine& map) {
  Image out(image.channels, image.height, image.width);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      // floor(v + 0.5) rounds ties consistently and absorbs the 1e-16
      // residues of cos(90 degrees), so quarter turns are exact.
      int sx = static_cast<int>(
          std::floor(map.xx * x + map.xy * y + map.x0 + 0.5 + 1e-9));
      int sy = static_cast<int>(
          std::floor(map.yx * x + map.yy * y + map.y0 + 0.5 + 1e-9));
      if (sx < 0 || sx >= image.width || sy < 0 || sy >= image.height) {
        continue;
      }
      for (int c = 0; c < image.channels; ++c) {
        out.at(c, y, x) = image.at(c, sy, sx);
      }
    }
  }
  return out;
}

Image FlipHorizontal(const Image& image) {
  Image out(image.channels, image.height, image.width);
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < image.height; ++y) {
      const uint8_t* source = image.pixels.data() + image.offset(c, y, 0);
      std::reverse_copy(source, source + image.width, &out.at(c, y, 0));
    }
  }
  return out;
}

Image PadAndCrop(const Image& image, int padding, int top, int left) {
  CHECK(top >= 0 && top <= 2 * padding && left >= 0 && left <= 2 * padding);
  Image out(image.channels, image.height, image.width);
  int dy = top - padding;
  int dx = left - padding;
  int x_begin = std::max(0, -dx);
  int x_end = std::min(image.width, image.width - dx);
  if (x_begin >= x_end) return out;
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < image.height; ++y) {
      int sy = y + dy;
      if (sy < 0 || sy >= image.height) continue;
      std::copy_n(image.pixels.data() + image.offset(c, sy, x_begin + dx),
                  x_end - x_begin, &out.at(c, y, x_begin));
    }
  }
  return out;
}

void Posterize(Image& image, int bits) {
  CHECK(bits >= 1 && bits <= 8) << bits;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - bits));
  for (uint8_t& value : image.pixels) value &= mask;
}

void Solarize(Image& image, int threshold) {
  for (uint8_t& value : image.pixels) {
    if (value >= threshold) value = 255 - value;
  }
}

void AutoContrast(Image& image) {
  size_t plane = static_cast<size_t>(image.height) * image.width;
  for (int c = 0; c < image.channels; ++c) {
    uint8_t* begin = image.pixels.data() + c * plane;
    auto [low, high] = std::minmax_element(begin, begin + plane);
    int lo = *low;
    int hi = *high;
    if (hi == lo) continue;
    double scale = 255.0 / (hi - lo);
    for (size_t i = 0; i < plane; ++i) {
      begin[i] = RoundToByte((begin[i] - lo) * scale);
    }
  }
}

void Equalize(Image& image) {
  size_t plane = static_cast<size_t>(image.height) * image.width;
  for (int c = 0; c < image.channels; ++c) {
    uint8_t* begin = image.pixels.data() + c * plane;
    std::array<int64_t, 256> histogram{};
    for (size_t i = 0; i < plane; ++i) ++histogram[begin[i]];
    // PIL's step leaves out the pixels of the brightest occupied level, so
    // the levels below it spread over 0..255.
    int64_t last = 0;
    for (int level = 255; level >= 0; --level) {
      if (histogram[level] != 0) {
        last = histogram[level];
        break;
      }
    }
    int64_t step = (static_cast<int64_t>(plane) - last) / 255;
    if (step == 0) continue;
    std::array<uint8_t, 256> lut;
    int64_t cumulative = step / 2;
    for (int level = 0; level < 256; ++level) {
      lut[level] =
          static_cast<uint8_t>(std::min<int64_t>(cumulative / step, 255));
      cumulative += histogram[level];
    }
    for (size_t i = 0; i < plane; ++i) begin[i] = lut[begin[i]];
  }
}

void AdjustBrightness(Image& image, double factor) {
  for (uint8_t& value : image.pixels) value = RoundToByte(factor * value);
}

void AdjustContrast(Image& image, double factor) {
  double sum = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) sum += Grey(image, y, x);
  }
  double offset =
      (1.0 - factor) * sum / (static_cast<double>(image.height) * image.width);
  for (uint8_t& value : image.pixels) {
    value = RoundToByte(factor * value + offset);
  }
}

void AdjustSaturation(Image& image, double factor) {
  if (image.channels == 1) return;
  size_t plane = static_cast<size_t>(image.height) * image.width;
  std::vector<double> grey(image.pixels.size());
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      double g = Grey(image, y, x);
      size_t offset = static_cast<size_t>(y) * image.width + x;
      for (int c = 0; c < image.channels; ++c) grey[c * plane + offset] = g;
    }
  }
  BlendWith(image, grey, factor);
}

void AdjustSharpness(Image& image, double factor) {
  if (image.height < 3 || image.width < 3) return;
  std::vector<double> smooth(image.pixels.begin(), image.pixels.end());
  size_t plane = static_cast<size_t>(image.height) * image.width;
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 1; y + 1 < image.height; ++y) {
      for (int x = 1; x + 1 < image.width; ++x) {
        // PIL's SMOOTH kernel: centre 5, neighbours 1, divided by 13.
        int sum = 4 * image.at(c, y, x);
        for (int ky = -1; ky <= 1; ++ky) {
          for (int kx = -1; kx <= 1; ++kx) sum += image.at(c, y + ky, x + kx);
        }
        smooth[c * plane + static_cast<size_t>(y) * image.width + x] =
            std::nearbyint(sum / 13.0);
      }
    }
  }
  BlendWith(image, smooth, factor);
}

}  // namespace vit_moe::augment
