#include "model/layers.h"

#include "model/dropout.h"

namespace vit_moe::model {

MlpImpl::MlpImpl(int64_t dim, int64_t hidden, double dropout)
    : dropout_(dropout) {
  fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
  InitLinear(fc1);
  InitLinear(fc2);
}

torch::Tensor MlpForward(const torch::Tensor& x, torch::nn::Linear& fc1,
                         torch::nn::Linear& fc2, double dropout,
                         bool training) {
  torch::Tensor y = Dropout(torch::gelu(fc1->forward(x)), dropout, training);
  return Dropout(fc2->forward(y), dropout, training);  // [..., D]
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  return MlpForward(x, fc1, fc2, dropout_, is_training());
}

void InitTruncNormal(torch::Tensor& tensor, double std) {
  torch::NoGradGuard no_grad;
  tensor.normal_(0.0, std).clamp_(-2.0 * std, 2.0 * std);
}

void InitLinear(torch::nn::Linear& linear) {
  InitTruncNormal(linear->weight, 0.02);
  if (linear->bias.defined()) {
    torch::NoGradGuard no_grad;
    linear->bias.zero_();
  }
}

}  // namespace vit_moe::model
