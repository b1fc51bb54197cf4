// Validation split carved out of an official training set: stratified per
// class, whole groups (GTSRB tracks) on one side, seeded with the project's
// specified generator so a split is reproducible on any platform.
#ifndef VIT_MOE_DATA_SPLIT_H_
#define VIT_MOE_DATA_SPLIT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "data/converted.h"

namespace vit_moe::data {

struct SplitIndices {
  std::vector<int64_t> train;       // ascending indices into the ImageSet
  std::vector<int64_t> validation;  // ascending
};

// Each class c with n_c images gets a validation quota from apportioning
// round(fraction * N) over classes by largest remainder (exact for
// Fashion-MNIST: 500 per class). Its groups are shuffled by a generator
// seeded from (seed, c) and taken in order until the quota is reached; at
// least one group of each class stays in training. Images of one group must
// share a label (InvalidArgument otherwise).
absl::StatusOr<SplitIndices> SplitTrainValidation(const ImageSet& images,
                                                  int num_classes,
                                                  double validation_fraction,
                                                  uint64_t seed);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_SPLIT_H_
