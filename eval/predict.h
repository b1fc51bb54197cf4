// Classifying image files the way the pipeline sees its data: decoded with
// OpenCV, brought to the model's channels and size as the data stage stores
// images, normalised with the training split's statistics.
#ifndef VIT_MOE_EVAL_PREDICT_H_
#define VIT_MOE_EVAL_PREDICT_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vit_moe::eval {

// Reads a PPM, PNG or JPEG file (anything OpenCV decodes) as uint8
// [channels, size, size]: grey for channels = 1, RGB for 3; resized with
// area interpolation (the data stage's resize, as for GTSRB's ROIs) when the
// file is not already size x size. InvalidArgument naming the file when it
// cannot be decoded.
absl::StatusOr<torch::Tensor> ReadImageForModel(const std::string& path,
                                                int64_t size, int64_t channels);

struct ClassScore {
  int64_t label = 0;
  std::string name;  // the manifest's class name, or the label as text
  double probability = 0;
};

// The k most probable classes of each row of `probabilities` [B, C], most
// probable first. `names` may be empty (labels are printed instead).
std::vector<std::vector<ClassScore>> TopClasses(
    const torch::Tensor& probabilities, const std::vector<std::string>& names,
    int64_t k);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_PREDICT_H_
