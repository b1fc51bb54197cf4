// Adversarial robustness for //eval:evaluate: the attacks of
// eval/adversarial_attacks.h at every epsilon on a seeded subset of the
// evaluated split, robust accuracy per norm and epsilon (the share of
// images that no attack of that norm fooled), and gradient-masking checks
// whose failure makes the robust accuracy worthless as evidence:
//   epsilon_zero_is_clean     FGSM and PGD at epsilon 0 give the clean
//                             accuracy (and the pixel path the evaluation's)
//   monotone_in_epsilon       no attack's accuracy, nor the robust accuracy,
//                             rises with epsilon (clean accuracy at 0)
//   pgd_not_weaker_than_fgsm  PGD L-inf <= FGSM at every epsilon
//   black_box_not_stronger    the Square attack, which needs no gradient,
//                             leaves at least as many images correct as
//                             the white-box attacks together
#ifndef VIT_MOE_EVAL_ADVERSARIAL_EVALUATION_H_
#define VIT_MOE_EVAL_ADVERSARIAL_EVALUATION_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/store.h"
#include "eval/adversarial_attacks.h"
#include "eval/evaluation.pb.h"
#include "eval/split_outputs.h"

namespace vit_moe::eval {

struct AdversarialOptions {
  // Images attacked: a subset of the evaluated split drawn with `seed`
  // (0 = skip the attacks).
  int64_t images = 500;
  uint64_t seed = 0;
  // Pixel units; RobustBench's L-inf budget for 32 px images is 8/255.
  std::vector<double> linf_epsilons = {1.0 / 255, 2.0 / 255, 4.0 / 255,
                                       8.0 / 255};
  std::vector<double> l2_epsilons = {0.1, 0.25, 0.5};
  // torchattacks' defaults: PGD 10 steps of 2/255 at 8/255 (ratio 0.25),
  // PGDL2 10 steps of 0.2 at 1.0 (ratio 0.2), random start.
  int pgd_steps = 10;
  double pgd_linf_step_ratio = 0.25;
  double pgd_l2_step_ratio = 0.2;
  int apgd_iterations = 100;  // AutoAttack's
  // AutoAttack's Square runs 5000 queries; a few hundred find what a
  // masked gradient hides.
  int square_queries = 100;
  double square_p_init = 0.8;
};

// "1/255,0.1" -> {1/255, 0.1}: decimals or fractions, comma-separated;
// "" -> {}. InvalidArgument naming `flag` for anything else.
absl::StatusOr<std::vector<double>> ParseEpsilons(const std::string& flag,
                                                  const std::string& text);

// InvalidArgument naming the flag: a negative epsilon, a subset larger than
// the split (`split_images`), no epsilon at all, steps or queries < 1.
absl::Status ValidateAdversarialOptions(const AdversarialOptions& options,
                                        int64_t split_images);

struct RobustnessMeasurement {
  AdversarialRobustness result;  // routing_change_share unset
  // PGD L-inf's images at the largest L-inf epsilon, [N, C, H, W].
  torch::Tensor strongest_pgd;
};

// Attacks `pixels` [N, C, H, W] (float32 in [0, 1], CPU) with labels [N] in
// batches of `batch_size`. `expected_correct` [N] bool, when defined, is the
// evaluation's own verdict on these images, which the pixel path must
// reproduce. Settings, results and checks go into the result.
RobustnessMeasurement MeasureRobustness(const PixelClassifier& f,
                                        const torch::Tensor& pixels,
                                        const torch::Tensor& labels,
                                        const torch::Tensor& expected_correct,
                                        const AdversarialOptions& options,
                                        int64_t batch_size);

// The model's version: the seeded subset of `split` (whose first
// logits.size(0) images gave `logits`), the model behind the split's
// normalisation, and the routing change at the strongest PGD.
absl::StatusOr<AdversarialRobustness> MeasureModelRobustness(
    EvaluationContext& ctx, const data::SplitData& split,
    const torch::Tensor& logits, const AdversarialOptions& options);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_ADVERSARIAL_EVALUATION_H_
