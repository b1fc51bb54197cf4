#include "eval/adversarial_attacks.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace vit_moe::eval {
namespace {

namespace F = torch::nn::functional;

struct LossAndGradient {
  torch::Tensor loss;      // [B] per-image cross-entropy, detached
  torch::Tensor logits;    // [B, K] detached
  torch::Tensor gradient;  // [B, C, H, W] of the summed loss
};

LossAndGradient CrossEntropyGradient(const PixelClassifier& f,
                                     const torch::Tensor& x,
                                     const torch::Tensor& y) {
  torch::AutoGradMode enable(true);
  const torch::Tensor input = x.detach().requires_grad_(true);
  const torch::Tensor logits = f(input);
  const torch::Tensor loss = F::cross_entropy(
      logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  // Gradient of the input alone: the model's parameters collect nothing.
  torch::Tensor gradient = torch::autograd::grad({loss.sum()}, {input})[0];
  return {loss.detach(), logits.detach(), gradient};
}

// Per-image [B, 1, 1, 1] view of a [B] tensor.
torch::Tensor PerImage(const torch::Tensor& v) { return v.view({-1, 1, 1, 1}); }

torch::Tensor ProjectLinf(const torch::Tensor& adv, const torch::Tensor& x,
                          double eps) {
  return torch::min(torch::max(adv, x - eps), x + eps).clamp(0, 1);
}

torch::Tensor L2Norms(const torch::Tensor& v) {  // [B]
  return v.flatten(1).norm(2, 1);
}

torch::Tensor ProjectL2(const torch::Tensor& adv, const torch::Tensor& x,
                        double eps) {
  const torch::Tensor delta = adv - x;
  const torch::Tensor factor =
      (eps / L2Norms(delta).clamp_min(1e-12)).clamp_max(1.0);
  return (x + delta * PerImage(factor)).clamp(0, 1);
}

torch::Tensor Uniform(const torch::Tensor& like, at::Generator& gen) {
  return torch::rand(like.sizes(), gen, like.options());
}

// Margin z_y - max_{j != y} z_j: negative once the image is misclassified.
torch::Tensor Margin(const torch::Tensor& logits, const torch::Tensor& y) {
  const torch::Tensor true_logit = logits.gather(1, y.unsqueeze(1)).squeeze(1);
  const torch::Tensor others = logits.scatter(
      1, y.unsqueeze(1), -std::numeric_limits<float>::infinity());
  return true_logit - std::get<0>(others.max(1));
}

// Square's schedule of the square's share of the image, for a budget of
// `queries` (AutoAttack's p_selection, rescaled from 10,000 queries).
double SquareShare(double p_init, int iteration, int queries) {
  const int it = static_cast<int>(10000.0 * iteration / queries);
  const int bounds[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
  double p = p_init;
  for (int b : bounds) {
    if (it > b) p /= 2;
  }
  return p;
}

}  // namespace

torch::Tensor Fgsm(const PixelClassifier& f, const torch::Tensor& x,
                   const torch::Tensor& y, double eps) {
  const LossAndGradient g = CrossEntropyGradient(f, x, y);
  return (x + eps * g.gradient.sign()).clamp(0, 1).detach();
}

torch::Tensor PgdLinf(const PixelClassifier& f, const torch::Tensor& x,
                      const torch::Tensor& y, double eps, int steps,
                      double step_size, bool random_start, at::Generator& gen) {
  torch::Tensor adv = x;
  if (random_start) {
    adv = (x + (2 * Uniform(x, gen) - 1) * eps).clamp(0, 1);
  }
  for (int i = 0; i < steps; ++i) {
    const LossAndGradient g = CrossEntropyGradient(f, adv, y);
    adv = ProjectLinf(adv + step_size * g.gradient.sign(), x, eps);
  }
  return adv.detach();
}

torch::Tensor PgdL2(const PixelClassifier& f, const torch::Tensor& x,
                    const torch::Tensor& y, double eps, int steps,
                    double step_size, bool random_start, at::Generator& gen) {
  torch::Tensor adv = x;
  if (random_start) {
    // torchattacks: a direction uniform on the sphere (normalised Gaussian),
    // a radius uniform in [0, eps].
    const torch::Tensor direction = torch::randn(x.sizes(), gen, x.options());
    const torch::Tensor radius = torch::rand({x.size(0)}, gen, x.options());
    const torch::Tensor unit =
        direction / PerImage(L2Norms(direction).clamp_min(1e-12));
    adv = (x + unit * PerImage(radius) * eps).clamp(0, 1);
  }
  for (int i = 0; i < steps; ++i) {
    const LossAndGradient g = CrossEntropyGradient(f, adv, y);
    const torch::Tensor step =
        g.gradient / PerImage(L2Norms(g.gradient).clamp_min(1e-12));
    adv = ProjectL2(adv + step_size * step, x, eps);
  }
  return adv.detach();
}

torch::Tensor ApgdCe(const PixelClassifier& f, const torch::Tensor& x,
                     const torch::Tensor& y, double eps, int iterations,
                     at::Generator& gen) {
  CHECK_GE(iterations, 1);
  const int64_t b = x.size(0);
  // Checkpoints: the first after 22% of the iterations, then shrinking by
  // 3% of them each time, never below 6%.
  const int first = std::max(static_cast<int>(0.22 * iterations), 1);
  const int shortest = std::max(static_cast<int>(0.06 * iterations), 1);
  const int shrink = std::max(static_cast<int>(0.03 * iterations), 1);
  constexpr double kOscillation = 0.75;  // rho

  // A random start on the ball's surface in L-inf: t / max|t| * eps.
  const torch::Tensor t = 2 * Uniform(x, gen) - 1;
  torch::Tensor adv =
      (x + eps * t / PerImage(std::get<0>(t.abs().flatten(1).max(1))))
          .clamp(0, 1);
  LossAndGradient g = CrossEntropyGradient(f, adv, y);
  torch::Tensor robust = g.logits.argmax(1) == y;  // [B] bool
  // The first misclassified point of each image; x while there is none.
  torch::Tensor best_adv = torch::where(PerImage(robust), x, adv);
  torch::Tensor x_best = adv.clone(), grad_best = g.gradient.clone();
  torch::Tensor loss_best = g.loss.clone();
  torch::Tensor step = torch::full({b}, 2 * eps, x.options());
  torch::Tensor previous = adv.clone();
  torch::Tensor gradient = g.gradient;
  std::vector<torch::Tensor> losses;  // per iteration [B]
  torch::Tensor loss_best_at_check = loss_best.clone();
  torch::Tensor reduced_at_check = torch::ones({b}, torch::kBool);
  int window = first, since_check = 0;
  for (int i = 0; i < iterations; ++i) {
    const torch::Tensor momentum_term = adv - previous;
    previous = adv;
    const double a = i > 0 ? 0.75 : 1.0;
    const torch::Tensor z = ProjectLinf(adv + PerImage(step) * gradient.sign(),
                                        x, eps);  // [B, C, H, W]
    adv = ProjectLinf(adv + (z - adv) * a + momentum_term * (1 - a), x, eps);
    g = CrossEntropyGradient(f, adv, y);
    gradient = g.gradient;
    const torch::Tensor fooled = g.logits.argmax(1) != y;
    best_adv = torch::where(PerImage(fooled & robust), adv, best_adv);
    robust = robust & ~fooled;
    losses.push_back(g.loss);
    const torch::Tensor improved = g.loss > loss_best;
    x_best = torch::where(PerImage(improved), adv, x_best);
    grad_best = torch::where(PerImage(improved), gradient, grad_best);
    loss_best = torch::where(improved, g.loss, loss_best);
    if (++since_check == window) {
      // Oscillation: the loss rose in at most rho of the window's steps
      // (AutoAttack compares the first step with a loss of 0).
      torch::Tensor rises = torch::zeros({b}, x.options());
      for (int j = i - window + 1; j <= i; ++j) {
        const torch::Tensor before =
            j > 0 ? losses[j - 1] : torch::zeros_like(losses[0]);
        rises += (losses[j] > before).to(x.scalar_type());
      }
      const torch::Tensor oscillated = rises <= window * kOscillation;
      const torch::Tensor stalled =
          ~reduced_at_check & (loss_best_at_check >= loss_best);
      const torch::Tensor halve = oscillated | stalled;
      reduced_at_check = halve;
      loss_best_at_check = loss_best.clone();
      step = torch::where(halve, step / 2, step);
      adv = torch::where(PerImage(halve), x_best, adv);
      gradient = torch::where(PerImage(halve), grad_best, gradient);
      window = std::max(window - shrink, shortest);
      since_check = 0;
    }
  }
  return best_adv.detach();
}

torch::Tensor SquareLinf(const PixelClassifier& f, const torch::Tensor& x,
                         const torch::Tensor& y, double eps, int queries,
                         double p_init, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto signs = [&](at::IntArrayRef shape) {
    return torch::randint(0, 2, shape, gen, x.options()) * 2 - 1;
  };
  // Vertical stripes of +-eps as the first query.
  torch::Tensor best = (x + eps * signs({b, c, 1, w})).clamp(0, 1);
  torch::Tensor margin = Margin(f(best), y);
  for (int q = 1; q < queries; ++q) {
    const torch::Tensor active = margin > 0;
    if (!active.any().item<bool>()) break;
    const double p = SquareShare(p_init, q, queries);
    const int64_t side = std::clamp<int64_t>(std::llround(std::sqrt(p * h * w)),
                                             1, std::max<int64_t>(h - 1, 1));
    torch::Tensor candidate = best.clone();
    const torch::Tensor corner_h =
        torch::randint(0, h - side + 1, {b}, gen, torch::kInt64);
    const torch::Tensor corner_w =
        torch::randint(0, w - side + 1, {b}, gen, torch::kInt64);
    const torch::Tensor values = eps * signs({b, c, 1, 1});
    for (int64_t i = 0; i < b; ++i) {
      const int64_t r = corner_h[i].item<int64_t>();
      const int64_t s = corner_w[i].item<int64_t>();
      candidate[i]
          .narrow(1, r, side)
          .narrow(2, s, side)
          .copy_((x[i].narrow(1, r, side).narrow(2, s, side) + values[i])
                     .clamp(0, 1));
    }
    const torch::Tensor candidate_margin = Margin(f(candidate), y);
    const torch::Tensor keep = active & (candidate_margin < margin);
    best = torch::where(PerImage(keep), candidate, best);
    margin = torch::where(keep, candidate_margin, margin);
  }
  return best;
}

}  // namespace vit_moe::eval
