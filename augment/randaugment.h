// RandAugment (Cubuk et al., 2020): each image gets `num_ops` operations
// drawn uniformly from a fixed set, all at one magnitude on the 0..30 scale
// (torchvision's 31 bins). Magnitudes map to op strengths as torchvision
// maps them: shear 0..0.3, translate 0..150/331 of the side, rotate 0..30
// degrees, brightness/colour/contrast/sharpness factor 1 +- 0..0.9,
// posterize 8..4 bits; signed ops take a random sign. One deliberate
// difference: solarize's threshold is 256 * (1 - M/30), so magnitude 0
// changes nothing (torchvision's 255 still inverts pure white).
#ifndef VIT_MOE_AUGMENT_RANDAUGMENT_H_
#define VIT_MOE_AUGMENT_RANDAUGMENT_H_

#include "augment/image_ops.h"
#include "augment/sample_random.h"

namespace vit_moe::augment {

inline constexpr int kMaxMagnitude = 30;

enum class RandAugmentOp {
  kIdentity,
  kAutoContrast,
  kEqualize,
  kRotate,
  kSolarize,
  kColor,
  kPosterize,
  kContrast,
  kBrightness,
  kSharpness,
  kShearX,
  kShearY,
  kTranslateX,
  kTranslateY,
};
inline constexpr int kNumRandAugmentOps = 14;

// Applies one op at `magnitude` (0..30); `negate` flips the direction of
// signed ops and is ignored by the others.
void ApplyRandAugmentOp(Image& image, RandAugmentOp op, int magnitude,
                        bool negate);

// Draws `num_ops` ops (with replacement) and their signs from `random`.
void RandAugment(Image& image, int num_ops, int magnitude,
                 SampleRandom& random);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_RANDAUGMENT_H_
