// Out-of-distribution images made from an in-distribution split, as uint8
// batch transforms (run before normalisation, like the corruptions):
//   noise   every pixel uniform in 0..255, drawn from (seed, image index)
//           alone, so batching changes nothing
//   vflip   the image upside down: the same pixels and statistics, shapes
//           the classes never take
//   invert  255 - pixel: the same shapes in the opposite contrast
// Another store (--ood_manifest) is read as it is, see ood_evaluation.h.
#ifndef VIT_MOE_EVAL_OOD_SOURCES_H_
#define VIT_MOE_EVAL_OOD_SOURCES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/loader.h"

namespace vit_moe::eval {

struct OodTransform {
  std::string name;
  std::string description;
  std::function<data::Batch(data::Batch)> transform;
};

// The three sources above, in that order.
std::vector<OodTransform> OodTransforms(uint64_t seed);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_OOD_SOURCES_H_
