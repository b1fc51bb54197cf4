#include "augment/randaugment.h"

#include <glog/logging.h>

#include <cmath>

namespace vit_moe::augment {
namespace {

// Share of the op's strongest setting that `magnitude` asks for.
double Fraction(int magnitude) {
  return static_cast<double>(magnitude) / kMaxMagnitude;
}

}  // namespace

void ApplyRandAugmentOp(Image& image, RandAugmentOp op, int magnitude,
                        bool negate) {
  CHECK(magnitude >= 0 && magnitude <= kMaxMagnitude) << magnitude;
  double sign = negate ? -1.0 : 1.0;
  double fraction = Fraction(magnitude);
  int h = image.height;
  int w = image.width;
  switch (op) {
    case RandAugmentOp::kIdentity:
      return;
    case RandAugmentOp::kAutoContrast:
      AutoContrast(image);
      return;
    case RandAugmentOp::kEqualize:
      Equalize(image);
      return;
    case RandAugmentOp::kRotate:
      if (magnitude != 0) {
        image = WarpAffine(image, RotationMap(sign * 30.0 * fraction, h, w));
      }
      return;
    case RandAugmentOp::kSolarize:
      Solarize(image, static_cast<int>(std::ceil(256.0 * (1.0 - fraction))));
      return;
    case RandAugmentOp::kColor:
      AdjustSaturation(image, 1.0 + sign * 0.9 * fraction);
      return;
    case RandAugmentOp::kPosterize:
      // torchvision: 8 - round(M / 7.5); M never lands on a .5 tie.
      Posterize(image, 8 - static_cast<int>(std::lround(magnitude / 7.5)));
      return;
    case RandAugmentOp::kContrast:
      AdjustContrast(image, 1.0 + sign * 0.9 * fraction);
      return;
    case RandAugmentOp::kBrightness:
      AdjustBrightness(image, 1.0 + sign * 0.9 * fraction);
      return;
    case RandAugmentOp::kSharpness:
      AdjustSharpness(image, 1.0 + sign * 0.9 * fraction);
      return;
    case RandAugmentOp::kShearX:
      if (magnitude != 0) {
        image = WarpAffine(image, ShearXMap(sign * 0.3 * fraction, h, w));
      }
      return;
    case RandAugmentOp::kShearY:
      if (magnitude != 0) {
        image = WarpAffine(image, ShearYMap(sign * 0.3 * fraction, h, w));
      }
      return;
    case RandAugmentOp::kTranslateX: {
      // torchvision truncates the shift to whole pixels.
      int shift = static_cast<int>(150.0 / 331.0 * w * fraction);
      if (shift != 0)
        image = WarpAffine(image, TranslationMap(sign * shift, 0));
      return;
    }
    case RandAugmentOp::kTranslateY: {
      int shift = static_cast<int>(150.0 / 331.0 * h * fraction);
      if (shift != 0)
        image = WarpAffine(image, TranslationMap(0, sign * shift));
      return;
    }
  }
  LOG(FATAL) << "unknown RandAugment op " << static_cast<int>(op);
}

void RandAugment(Image& image, int num_ops, int magnitude,
                 SampleRandom& random) {
  for (int i = 0; i < num_ops; ++i) {
    auto op = static_cast<RandAugmentOp>(random.Below(kNumRandAugmentOps));
    bool negate = random.Bernoulli(0.5);
    ApplyRandAugmentOp(image, op, magnitude, negate);
  }
}

}  // namespace vit_moe::augment
