// Small building blocks of the transformer: the GELU MLP and parameter
// initialisation (dropout and stochastic depth: model/dropout.h).
//
// Legend: B batch, N tokens, D embed, H MLP hidden width.
#ifndef VIT_MOE_MODEL_LAYERS_H_
#define VIT_MOE_MODEL_LAYERS_H_

#include <torch/torch.h>

namespace vit_moe::model {

// fc1 -> GELU -> dropout -> fc2 -> dropout, on any leading shape [..., D].
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden, double dropout);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};

 private:
  double dropout_;
};
TORCH_MODULE(Mlp);

// The MLP computation shared by MlpImpl and the FFN expert (whose linear
// layers sit directly under the expert's name).
torch::Tensor MlpForward(const torch::Tensor& x, torch::nn::Linear& fc1,
                         torch::nn::Linear& fc2, double dropout, bool training);

// Truncated-normal-like init (std 0.02, clipped at 2 std) for linear
// weights, zero biases; LayerNorm to identity. Draws from torch's default
// generator, so torch::manual_seed fixes it.
void InitLinear(torch::nn::Linear& linear);
void InitTruncNormal(torch::Tensor& tensor, double std);

}  // namespace vit_moe::model

#endif  // VIT_MOE_MODEL_LAYERS_H_
