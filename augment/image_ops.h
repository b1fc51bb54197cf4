// Single-image operations on uint8 pixels in C x H x W order (C = 1 or 3).
// They are the building blocks of the augmentation policy; each is
// deterministic (randomness is drawn by the caller) and works on one small
// image, so the batch loop parallelises over samples.
//
// Conventions follow torchvision's where it has one: nearest-neighbour
// sampling with zero fill for geometric ops, ITU-R 601 luma weights for
// grey, PIL's equalisation. Blends round to nearest (torchvision truncates).
#ifndef VIT_MOE_AUGMENT_IMAGE_OPS_H_
#define VIT_MOE_AUGMENT_IMAGE_OPS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vit_moe::augment {

struct Image {
  Image() = default;
  Image(int channels, int height, int width)
      : channels(channels),
        height(height),
        width(width),
        pixels(static_cast<size_t>(channels) * height * width, 0) {}

  size_t offset(int c, int y, int x) const {
    return (static_cast<size_t>(c) * height + y) * width + x;
  }
  uint8_t& at(int c, int y, int x) { return pixels[offset(c, y, x)]; }
  uint8_t at(int c, int y, int x) const { return pixels[offset(c, y, x)]; }

  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // [C, H, W]
};

// Maps an output pixel (x, y) to the source position it samples:
// source = (xx * x + xy * y + x0, yx * x + yy * y + y0).
struct InverseAffine {
  double xx = 1, xy = 0, x0 = 0;
  double yx = 0, yy = 1, y0 = 0;
};

// Counter-clockwise rotation (as seen on screen) about the image centre.
InverseAffine RotationMap(double degrees, int height, int width);
// Output x = input x + factor * (y - centre y): a horizontal shear about the
// centre row. torchvision shears about the top-left corner; shearing about
// the centre keeps small images on the canvas.
InverseAffine ShearXMap(double factor, int height, int width);
InverseAffine ShearYMap(double factor, int height, int width);
// Moves content right by dx and down by dy pixels.
InverseAffine TranslationMap(double dx, double dy);

// Nearest-neighbour resampling; positions outside the source read 0.
Image WarpAffine(const Image& image, const InverseAffine& map);
Image FlipHorizontal(const Image& image);
// Pads each side with `padding` zero pixels, then crops the original size
// with its top-left corner at (top, left) in the padded image; top and left
// lie in [0, 2 * padding].
Image PadAndCrop(const Image& image, int padding, int top, int left);

// Keeps the top `bits` bits (1..8) of every value.
void Posterize(Image& image, int bits);
// Inverts every value >= threshold (threshold 256 changes nothing).
void Solarize(Image& image, int threshold);
// Stretches each channel linearly to 0..255; flat channels stay as they are.
void AutoContrast(Image& image);
// Histogram equalisation per channel, PIL's algorithm.
void Equalize(Image& image);
// Multiplies by factor (0 = black, 1 = unchanged).
void AdjustBrightness(Image& image, double factor);
// Blends with the mean grey level (0 = flat grey, 1 = unchanged).
void AdjustContrast(Image& image, double factor);
// Blends with the grey version of each pixel (0 = grey, 1 = unchanged);
// one-channel images are unchanged.
void AdjustSaturation(Image& image, double factor);
// Blends with a 3x3 smoothed copy (0 = smooth, 1 = unchanged, > 1 sharper);
// border pixels are kept, as in PIL and torchvision.
void AdjustSharpness(Image& image, double factor);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_IMAGE_OPS_H_
