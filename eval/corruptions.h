// A deterministic image-corruption suite for robustness evaluation: noise
// (gaussian, shot, impulse), blur (defocus, motion), weather (fog), digital
// (brightness, contrast, JPEG, pixelate), each at severities 1..5.
//
// Parameters follow the conventions of the CIFAR-10-C benchmark (Hendrycks &
// Dietterich) where they suit 28-32 px images; the suite is not byte-equal
// to CIFAR-10-C and its numbers are comparable only with themselves.
//
// Randomness (noise, fog pattern, motion direction) of image i depends only
// on (seed, corruption, index[i]) - not on the batch it sits in, nor on the
// severity. Sharing the random draw across severities makes a stronger
// severity a stronger version of the same corruption.
#ifndef VIT_MOE_EVAL_CORRUPTIONS_H_
#define VIT_MOE_EVAL_CORRUPTIONS_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::eval {

enum class Corruption {
  kGaussianNoise,
  kShotNoise,
  kImpulseNoise,
  kDefocusBlur,
  kMotionBlur,
  kBrightness,
  kContrast,
  kFog,
  kJpeg,
  kPixelate,
};

inline constexpr int kMaxSeverity = 5;

// Every corruption, in report order.
const std::vector<Corruption>& AllCorruptions();

// Snake-case name used in reports and flags, e.g. "gaussian_noise".
std::string CorruptionName(Corruption corruption);
// InvalidArgument listing the known names for an unknown one.
absl::StatusOr<Corruption> ParseCorruption(absl::string_view name);

// Corrupts uint8 images [B, C, H, W] (C = 1 or 3, CPU) at severity 1..5.
// `indices` [B] int64 are the images' indices in their split. Returns uint8
// [B, C, H, W].
torch::Tensor Corrupt(const torch::Tensor& images, const torch::Tensor& indices,
                      Corruption corruption, int severity, uint64_t seed);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_CORRUPTIONS_H_
