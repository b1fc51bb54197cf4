// Small configs and comparison helpers shared by the model tests.
#ifndef VIT_MOE_MODEL_TEST_UTIL_H_
#define VIT_MOE_MODEL_TEST_UTIL_H_

#include <torch/torch.h>

#include <map>
#include <string>

#include "model/model_config.pb.h"

namespace vit_moe::model {

// A valid config small enough for fast tests: 8x8x3 images, patch 2 (16
// tokens + class token), D 16, 2 heads, depth 2, 4 experts top-2, no
// dropout or noise.
ModelConfig TinyConfig(ExpertKind kind);

// Gradients by parameter name; a parameter without a gradient maps to zeros.
std::map<std::string, torch::Tensor> GradientsByName(torch::nn::Module& module);

// Largest absolute difference of two equally keyed gradient maps.
double MaxGradientDifference(const std::map<std::string, torch::Tensor>& a,
                             const std::map<std::string, torch::Tensor>& b);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_TEST_UTIL_H_
