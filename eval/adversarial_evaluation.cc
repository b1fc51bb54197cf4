#include "eval/adversarial_evaluation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <glog/logging.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "data/normalization.h"
#include "model/precision.h"

namespace vit_moe::eval {
namespace {

constexpr char kLinf[] = "linf";
constexpr char kL2[] = "l2";

// Attack names in the order they run at each epsilon.
const char* const kLinfAttacks[] = {"fgsm", "pgd_linf", "apgd_ce", "square"};
const char* const kWhiteBoxLinf[] = {"fgsm", "pgd_linf", "apgd_ce"};

// The generator of one (attack, epsilon, batch): a result does not depend
// on which attacks ran before it.
at::Generator AttackGenerator(uint64_t seed, const std::string& attack,
                              size_t epsilon_index, int64_t batch) {
  uint64_t key = seed;
  for (char c : attack) key = key * 1099511628211ull + c;
  key = key * 1099511628211ull + epsilon_index;
  key = key * 1099511628211ull + static_cast<uint64_t>(batch);
  return at::detail::createCPUGenerator(key);
}

using Key = std::pair<std::string, double>;  // (attack, epsilon)

double Share(const torch::Tensor& correct) {
  return correct.to(torch::kFloat64).mean().item<double>();
}

void AddCheck(AdversarialRobustness* r, const std::string& name, bool passed,
              const std::string& detail) {
  AdversarialMaskingCheck* c = r->add_checks();
  c->set_check(name);
  c->set_passed(passed);
  c->set_detail(detail);
}

std::string Fmt(double v) { return absl::StrFormat("%.4f", v); }

// First rise of `accuracy` along increasing epsilons, or "".
std::string FirstRise(const std::string& what,
                      const std::vector<std::pair<double, double>>& accuracy) {
  for (size_t i = 1; i < accuracy.size(); ++i) {
    if (accuracy[i].second > accuracy[i - 1].second) {
      return absl::StrCat(what, " rises from ", Fmt(accuracy[i - 1].second),
                          " at eps ", Fmt(accuracy[i - 1].first), " to ",
                          Fmt(accuracy[i].second), " at eps ",
                          Fmt(accuracy[i].first));
    }
  }
  return "";
}

void RunMaskingChecks(const std::map<Key, torch::Tensor>& correct,
                      const torch::Tensor& clean,
                      const torch::Tensor& expected_correct,
                      const AdversarialOptions& o, AdversarialRobustness* r) {
  const double clean_accuracy = Share(clean);
  {
    std::string detail = absl::StrCat("clean ", Fmt(clean_accuracy));
    bool ok = true;
    if (expected_correct.defined()) {
      const double expected = Share(expected_correct);
      ok = ok && torch::equal(clean, expected_correct);
      absl::StrAppend(&detail, ", evaluation ", Fmt(expected));
    }
    for (const char* attack : {"fgsm", "pgd_linf"}) {
      const double a = Share(correct.at({attack, 0.0}));
      ok = ok && a == clean_accuracy;
      absl::StrAppend(&detail, ", ", attack, " at eps 0: ", Fmt(a));
    }
    AddCheck(r, "epsilon_zero_is_clean", ok, detail);
  }
  {
    std::vector<std::string> rises;
    auto curve = [&](const std::string& what, const std::string& norm,
                     const std::vector<double>& epsilons,
                     const std::string& attack) {
      std::vector<std::pair<double, double>> acc = {{0.0, clean_accuracy}};
      for (double eps : epsilons) {
        if (attack.empty()) {
          for (const AdversarialRobustAccuracy& ra : r->robust()) {
            if (ra.norm() == norm && ra.epsilon() == eps) {
              acc.emplace_back(eps, ra.accuracy());
            }
          }
        } else {
          acc.emplace_back(eps, Share(correct.at({attack, eps})));
        }
      }
      const std::string rise = FirstRise(what, acc);
      if (!rise.empty()) rises.push_back(rise);
    };
    for (const char* attack : kLinfAttacks) {
      curve(attack, kLinf, o.linf_epsilons, attack);
    }
    curve("pgd_l2", kL2, o.l2_epsilons, "pgd_l2");
    curve("robust linf", kLinf, o.linf_epsilons, "");
    AddCheck(r, "monotone_in_epsilon", rises.empty(),
             rises.empty() ? "every accuracy falls or stays as eps grows"
                           : rises.front());
  }
  {
    std::string detail;
    bool ok = true;
    for (double eps : o.linf_epsilons) {
      const double pgd = Share(correct.at({"pgd_linf", eps}));
      const double fgsm = Share(correct.at({"fgsm", eps}));
      ok = ok && pgd <= fgsm;
      absl::StrAppend(&detail, detail.empty() ? "" : "; ", "eps ", Fmt(eps),
                      ": pgd ", Fmt(pgd), " fgsm ", Fmt(fgsm));
    }
    AddCheck(r, "pgd_not_weaker_than_fgsm", ok, detail);
  }
  {
    std::string detail;
    bool ok = true;
    for (double eps : o.linf_epsilons) {
      torch::Tensor white = clean.clone();
      for (const char* attack : kWhiteBoxLinf) {
        white = white & correct.at({attack, eps});
      }
      const double square = Share(correct.at({"square", eps}));
      ok = ok && square >= Share(white);
      absl::StrAppend(&detail, detail.empty() ? "" : "; ", "eps ", Fmt(eps),
                      ": square ", Fmt(square), " white-box ",
                      Fmt(Share(white)));
    }
    AddCheck(r, "black_box_not_stronger", ok, detail);
  }
}

}  // namespace

absl::StatusOr<std::vector<double>> ParseEpsilons(const std::string& flag,
                                                  const std::string& text) {
  std::vector<double> epsilons;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::vector<absl::string_view> fraction = absl::StrSplit(part, '/');
    double numerator = 0, denominator = 1;
    if (fraction.size() > 2 || !absl::SimpleAtod(fraction[0], &numerator) ||
        (fraction.size() == 2 &&
         (!absl::SimpleAtod(fraction[1], &denominator) || denominator <= 0))) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": '", part, "' is not a number or a fraction like 8/255"));
    }
    epsilons.push_back(numerator / denominator);
  }
  return epsilons;
}

absl::Status ValidateAdversarialOptions(const AdversarialOptions& o,
                                        int64_t split_images) {
  if (o.images < 0 || o.images > split_images) {
    return absl::InvalidArgumentError(
        absl::StrCat("--adversarial_images=", o.images, " must be in 0..",
                     split_images, " (the images of the evaluated split)"));
  }
  for (const auto& [flag, epsilons] :
       {std::pair{"--adversarial_linf_epsilons", &o.linf_epsilons},
        std::pair{"--adversarial_l2_epsilons", &o.l2_epsilons}}) {
    for (size_t i = 0; i < epsilons->size(); ++i) {
      const double eps = (*epsilons)[i];
      if (!(eps >= 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": epsilon ", eps, " is below 0"));
      }
      if (std::count(epsilons->begin(), epsilons->begin() + i, eps) > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, ": epsilon ", eps, " is listed twice"));
      }
    }
  }
  if (o.images > 0 && o.linf_epsilons.empty()) {
    return absl::InvalidArgumentError(
        "--adversarial_linf_epsilons is empty, so the masking checks would "
        "compare nothing");
  }
  if (o.pgd_steps < 1 || o.apgd_iterations < 1 || o.square_queries < 1) {
    return absl::InvalidArgumentError(
        "--pgd_steps, --apgd_iterations and --square_queries must be at "
        "least 1");
  }
  if (!(o.pgd_linf_step_ratio > 0) || !(o.pgd_l2_step_ratio > 0) ||
      !(o.square_p_init > 0 && o.square_p_init <= 1)) {
    return absl::InvalidArgumentError(
        "--pgd_linf_step_ratio and --pgd_l2_step_ratio must be positive, "
        "--square_p_init in (0, 1]");
  }
  return absl::OkStatus();
}

RobustnessMeasurement MeasureRobustness(const PixelClassifier& f,
                                        const torch::Tensor& pixels,
                                        const torch::Tensor& labels,
                                        const torch::Tensor& expected_correct,
                                        const AdversarialOptions& o,
                                        int64_t batch_size) {
  std::vector<double> linf = o.linf_epsilons, l2 = o.l2_epsilons;
  std::sort(linf.begin(), linf.end());
  std::sort(l2.begin(), l2.end());
  AdversarialOptions sorted = o;
  sorted.linf_epsilons = linf;
  sorted.l2_epsilons = l2;

  std::map<Key, std::vector<torch::Tensor>> parts;
  std::vector<torch::Tensor> clean_parts, strongest;
  const int64_t n = pixels.size(0);
  for (int64_t begin = 0, batch = 0; begin < n; begin += batch_size, ++batch) {
    const torch::Tensor x = pixels.slice(0, begin, begin + batch_size);
    const torch::Tensor y = labels.slice(0, begin, begin + batch_size);
    auto correct = [&](const torch::Tensor& adv) {
      torch::NoGradGuard no_grad;
      return f(adv).argmax(1) == y;
    };
    clean_parts.push_back(correct(x));
    auto run = [&](const std::string& attack, double eps, size_t index,
                   const std::function<torch::Tensor(at::Generator&)>& make) {
      at::Generator gen = AttackGenerator(o.seed, attack, index, batch);
      const torch::Tensor adv = make(gen);
      parts[{attack, eps}].push_back(correct(adv));
      return adv;
    };
    // Epsilon 0 for the first masking check, unless the list has it
    // (index past the lists').
    if (linf.front() > 0) {
      const size_t zero = linf.size() + l2.size();
      run("fgsm", 0.0, zero, [&](at::Generator&) { return Fgsm(f, x, y, 0); });
      run("pgd_linf", 0.0, zero, [&](at::Generator& gen) {
        return PgdLinf(f, x, y, 0, o.pgd_steps, 0, true, gen);
      });
    }
    for (size_t i = 0; i < linf.size(); ++i) {
      const double eps = linf[i];
      run("fgsm", eps, i, [&](at::Generator&) { return Fgsm(f, x, y, eps); });
      const torch::Tensor pgd = run("pgd_linf", eps, i, [&](at::Generator& g) {
        return PgdLinf(f, x, y, eps, o.pgd_steps, o.pgd_linf_step_ratio * eps,
                       true, g);
      });
      if (i + 1 == linf.size()) strongest.push_back(pgd);
      run("apgd_ce", eps, i, [&](at::Generator& g) {
        return ApgdCe(f, x, y, eps, o.apgd_iterations, g);
      });
      run("square", eps, i, [&](at::Generator& g) {
        return SquareLinf(f, x, y, eps, o.square_queries, o.square_p_init, g);
      });
    }
    for (size_t i = 0; i < l2.size(); ++i) {
      const double eps = l2[i];
      run("pgd_l2", eps, linf.size() + i, [&](at::Generator& g) {
        return PgdL2(f, x, y, eps, o.pgd_steps, o.pgd_l2_step_ratio * eps, true,
                     g);
      });
    }
    LOG(INFO) << "adversarial: " << std::min(n, begin + batch_size) << " of "
              << n << " images attacked";
  }
  std::map<Key, torch::Tensor> correct;
  for (auto& [key, list] : parts) correct[key] = torch::cat(list);
  const torch::Tensor clean = torch::cat(clean_parts);

  RobustnessMeasurement m;
  AdversarialRobustness& r = m.result;
  r.set_images(n);
  r.set_seed(o.seed);
  r.set_clean_accuracy(Share(clean));
  r.set_pgd_steps(o.pgd_steps);
  r.set_pgd_linf_step_ratio(o.pgd_linf_step_ratio);
  r.set_pgd_l2_step_ratio(o.pgd_l2_step_ratio);
  r.set_apgd_iterations(o.apgd_iterations);
  r.set_square_queries(o.square_queries);
  r.set_square_p_init(o.square_p_init);
  auto add = [&](const std::string& attack, const char* norm, double eps) {
    AdversarialAttackResult* a = r.add_attacks();
    a->set_attack(attack);
    a->set_norm(norm);
    a->set_epsilon(eps);
    a->set_accuracy(Share(correct.at({attack, eps})));
  };
  for (double eps : linf) {
    torch::Tensor all = clean.clone();
    for (const char* attack : kLinfAttacks) {
      add(attack, kLinf, eps);
      all = all & correct.at({attack, eps});
    }
    AdversarialRobustAccuracy* ra = r.add_robust();
    ra->set_norm(kLinf);
    ra->set_epsilon(eps);
    ra->set_accuracy(Share(all));
  }
  for (double eps : l2) {
    add("pgd_l2", kL2, eps);
    AdversarialRobustAccuracy* ra = r.add_robust();
    ra->set_norm(kL2);
    ra->set_epsilon(eps);
    ra->set_accuracy(Share(clean & correct.at({"pgd_l2", eps})));
  }
  RunMaskingChecks(correct, clean, expected_correct, sorted, &r);
  if (!strongest.empty()) m.strongest_pgd = torch::cat(strongest);
  return m;
}

absl::StatusOr<AdversarialRobustness> MeasureModelRobustness(
    EvaluationContext& ctx, const data::SplitData& split,
    const torch::Tensor& logits, const AdversarialOptions& options) {
  RETURN_IF_ERROR(ValidateAdversarialOptions(options, logits.size(0)));
  at::Generator gen = at::detail::createCPUGenerator(options.seed);
  const torch::Tensor rows =
      std::get<0>(torch::randperm(logits.size(0), gen, torch::kInt64)
                      .slice(0, 0, options.images)
                      .sort());
  // [N, H, W, C] uint8 -> [n, C, H, W] pixels in [0, 1], as the loader and
  // NormalizeImages compute them.
  const torch::Tensor pixels = split.images.index_select(0, rows)
                                   .permute({0, 3, 1, 2})
                                   .to(torch::kFloat32)
                                   .div_(255.0f)
                                   .contiguous();
  const torch::Tensor labels = split.labels.index_select(0, rows);
  const torch::Tensor expected =
      logits.index_select(0, rows).argmax(1) == labels;
  auto forward = [&ctx](const torch::Tensor& p) {
    const torch::Tensor x = data::NormalizePixels(p.to(ctx.device), ctx.norm);
    model::AutocastScope autocast(ctx.precision, ctx.device);
    return ctx.model->forward(x);
  };
  const PixelClassifier f = [&forward](const torch::Tensor& p) {
    return forward(p).logits.to(torch::kCPU, torch::kFloat32);
  };
  RobustnessMeasurement m =
      MeasureRobustness(f, pixels, labels, expected, options, ctx.batch_size);
  // How often the strongest PGD changed a discrete top-k routing choice.
  torch::NoGradGuard no_grad;
  int64_t changed = 0, total = 0;
  for (int64_t begin = 0; begin < pixels.size(0); begin += ctx.batch_size) {
    const model::ModelOutput clean =
        forward(pixels.slice(0, begin, begin + ctx.batch_size));
    const model::ModelOutput adv =
        forward(m.strongest_pgd.slice(0, begin, begin + ctx.batch_size));
    for (size_t l = 0; l < clean.top_experts.size(); ++l) {
      // Sorted, so that a swap of the k experts' order is no change.
      const torch::Tensor a = std::get<0>(clean.top_experts[l].sort(-1));
      const torch::Tensor b = std::get<0>(adv.top_experts[l].sort(-1));
      changed += (a != b).sum().item<int64_t>();
      total += a.numel();
    }
  }
  if (total > 0) {
    m.result.set_routing_change_share(static_cast<double>(changed) / total);
  }
  return m.result;
}

}  // namespace vit_moe::eval
