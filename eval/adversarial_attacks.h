// White- and black-box evasion attacks on a classifier of pixels in [0, 1]
// (the normalisation inside the classifier, so that epsilons are pixel
// units). Every attack is untargeted, keeps each image within epsilon of
// the original in its norm and clips it to [0, 1]:
//   Fgsm        one signed-gradient step of size eps (Goodfellow et al.)
//   PgdLinf     `steps` signed-gradient steps of step_size, projected on the
//               L-inf ball, from a uniform random start (Madry et al.;
//               torchattacks' PGD)
//   PgdL2       the same with L2-normalised gradient steps, random start
//               uniform in the ball's radius (torchattacks' PGDL2)
//   ApgdCe      APGD with the cross-entropy loss, L-inf, as AutoAttack runs
//               it: step 2 eps, momentum 0.75, step halved at the
//               checkpoints where the loss oscillated or stalled, restart
//               from the best point (Croce & Hein 2020); keeps the first
//               misclassified point of each image
//   SquareLinf  score-based black box: random squares of +-eps, a change
//               kept when it lowers the margin loss (Andriushchenko et al.
//               2020); needs only logits, so gradient masking cannot stop it
// Random draws come from `gen` alone.
//
// Legend: B images, C channels, H x W pixels, K classes.
#ifndef VIT_MOE_EVAL_ADVERSARIAL_ATTACKS_H_
#define VIT_MOE_EVAL_ADVERSARIAL_ATTACKS_H_

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <functional>

namespace vit_moe::eval {

// pixels [B, C, H, W] float32 in [0, 1] -> logits [B, K] float32. Called
// with gradient recording on by the white-box attacks.
using PixelClassifier = std::function<torch::Tensor(const torch::Tensor&)>;

// x: [B, C, H, W] clean pixels; y: [B] int64 labels. Return the adversarial
// pixels, same shape.
torch::Tensor Fgsm(const PixelClassifier& f, const torch::Tensor& x,
                   const torch::Tensor& y, double eps);
torch::Tensor PgdLinf(const PixelClassifier& f, const torch::Tensor& x,
                      const torch::Tensor& y, double eps, int steps,
                      double step_size, bool random_start, at::Generator& gen);
torch::Tensor PgdL2(const PixelClassifier& f, const torch::Tensor& x,
                    const torch::Tensor& y, double eps, int steps,
                    double step_size, bool random_start, at::Generator& gen);
torch::Tensor ApgdCe(const PixelClassifier& f, const torch::Tensor& x,
                     const torch::Tensor& y, double eps, int iterations,
                     at::Generator& gen);
torch::Tensor SquareLinf(const PixelClassifier& f, const torch::Tensor& x,
                         const torch::Tensor& y, double eps, int queries,
                         double p_init, at::Generator& gen);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_ADVERSARIAL_ATTACKS_H_
