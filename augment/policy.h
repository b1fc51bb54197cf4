// Named augmentation presets and their resolution against an AugmentConfig.
//
//   seed  - the seed system's recipe (shared/REFERENCE.md), in its order:
//           RandAugment(2, 9), random crop with padding 4, horizontal flip,
//           colour jitter 0.1, rotation +-15 degrees, then after
//           normalisation random erasing p=0.3 on 2-20% of the area, and
//           CutMix alpha 1 on half of the batches.
//   light - random crop with padding 4 and horizontal flip only.
//   none  - nothing (the data goes through unchanged).
//
// An empty preset means "seed". Horizontal flip follows the data set unless
// the config sets it: off for GTSRB (a flipped "keep left" is "keep right"),
// on for Fashion-MNIST and CIFAR-10; "none" never flips.
#ifndef VIT_MOE_AUGMENT_POLICY_H_
#define VIT_MOE_AUGMENT_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "augment/augment_config.pb.h"
#include "data/dataset.pb.h"

namespace vit_moe::augment {

// Preset names in the order they are documented.
const std::vector<std::string>& PresetNames();

// The preset's values with every field set, overridden by every field the
// config sets, then validated. InvalidArgument names the offending field.
absl::StatusOr<AugmentConfig> ResolveAugmentConfig(const AugmentConfig& config,
                                                   data::DatasetName dataset);

// Checks a resolved config (every optional field set) for values the ops
// cannot use.
absl::Status ValidateAugmentConfig(const AugmentConfig& resolved);

}  // namespace vit_moe::augment

#endif  // VIT_MOE_AUGMENT_POLICY_H_
