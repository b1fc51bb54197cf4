#include "eval/report_ood_adversarial.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/plot.h"
#include "common/status_macros.h"

namespace vit_moe::eval {
namespace {

std::string Percent(double v) { return absl::StrFormat("%.2f%%", 100 * v); }

std::string Eps(const std::string& norm, double eps) {
  // L-inf budgets read best as multiples of 1/255.
  if (norm == "linf") {
    return absl::StrFormat("%.4g (%.3g/255)", eps, eps * 255);
  }
  return absl::StrFormat("%.4g", eps);
}

void OodMarkdown(const OodDetection& o, const std::string& figures,
                 std::string* md) {
  absl::StrAppend(
      md, "\n## Out-of-distribution detection\n\n",
      absl::StrFormat(
          "In-distribution (the positive class): the %d evaluated images. "
          "Every score is oriented so that higher means in-distribution; "
          "FPR@95 is the share of OOD images accepted at the threshold that "
          "accepts 95%% of the in-distribution images (TPR 95%%, "
          "in-distribution positive). Mahalanobis (class means, shared "
          "covariance) and KNN (k = %d, L2-normalised pooled features) are "
          "fitted on %d training images; energy at T = %g; router_entropy "
          "is minus the mean routing entropy over tokens and MoE layers. "
          "Seed %d.\n\n",
          o.in_distribution_images(), o.knn_k(), o.fit_images(),
          o.energy_temperature(), o.seed()));
  absl::StrAppend(md, "| source | images | made as |\n|---|---:|---|\n");
  for (const OodSource& s : o.sources()) {
    absl::StrAppend(md, "| ", s.name(), " | ", s.images(), " | ",
                    s.description(), " |\n");
  }
  absl::StrAppend(
      md,
      "\n| score | source | AUROC | FPR@95 | AUPR-in | "
      "AUPR-out | rejected |\n|---|---|---:|---:|---:|---:|---:|\n");
  for (const OodResult& r : o.results()) {
    absl::StrAppend(
        md, absl::StrFormat("| %s | %s | %.4f | %.4f | %.4f | %.4f | %s |\n",
                            r.score(), r.source(), r.auroc(), r.fpr_at_95_tpr(),
                            r.aupr_in(), r.aupr_out(),
                            r.has_rejection_rate() ? Percent(r.rejection_rate())
                                                   : std::string("-")));
  }
  if (!o.threshold_split().empty()) {
    absl::StrAppend(
        md, absl::StrFormat(
                "\n*rejected*: share of the source's images below the score's "
                "threshold, fixed on the %d %s images alone to accept 95%% of "
                "them, as a deployed system would use it. The same thresholds "
                "accept, of the evaluated split:",
                o.threshold_images(), o.threshold_split()));
    for (const OodScore& s : o.scores()) {
      if (!s.has_evaluated_acceptance()) continue;
      absl::StrAppend(md, " ", s.score(), " ",
                      Percent(s.evaluated_acceptance()));
    }
    absl::StrAppend(md, ".\n");
  }
  absl::StrAppend(md, "\n");
  for (const OodScore& s : o.scores()) {
    absl::StrAppend(md, "- ", s.score(), ": ![histogram](", figures,
                    "/ood_histogram_", s.score(), ".png) ![ROC](", figures,
                    "/ood_roc_", s.score(), ".png)\n");
  }
}

void AdversarialMarkdown(const AdversarialRobustness& a,
                         const std::string& figures, std::string* md) {
  absl::StrAppend(
      md, "\n## Adversarial robustness\n\n",
      absl::StrFormat(
          "%d images of the evaluated split (seed %d), clean accuracy %s. "
          "Epsilons in pixel units (pixels in [0, 1], before normalisation); "
          "every adversarial image clipped to [0, 1]. PGD: %d steps of %.3g "
          "x eps (L-inf) or %.3g x eps (L2) from a random start; APGD-CE: %d "
          "iterations, one restart (AutoAttack); Square: %d queries, p_init "
          "%.2f (score-based black box). *robust* = correct under every "
          "attack of that norm.\n\n",
          a.images(), a.seed(), Percent(a.clean_accuracy()), a.pgd_steps(),
          a.pgd_linf_step_ratio(), a.pgd_l2_step_ratio(), a.apgd_iterations(),
          a.square_queries(), a.square_p_init()));
  std::set<std::string> attack_set;
  std::vector<std::string> attacks;
  std::map<std::pair<std::string, double>, std::map<std::string, double>> rows;
  std::vector<std::pair<std::string, double>> order;
  for (const AdversarialAttackResult& r : a.attacks()) {
    if (attack_set.insert(r.attack()).second) attacks.push_back(r.attack());
    const auto key = std::make_pair(r.norm(), r.epsilon());
    if (!rows.count(key)) order.push_back(key);
    rows[key][r.attack()] = r.accuracy();
  }
  absl::StrAppend(md, "| norm | epsilon |");
  for (const std::string& name : attacks) absl::StrAppend(md, " ", name, " |");
  absl::StrAppend(md, " robust |\n|---|---|");
  for (size_t i = 0; i <= attacks.size(); ++i) absl::StrAppend(md, "---:|");
  absl::StrAppend(md, "\n");
  for (const auto& key : order) {
    absl::StrAppend(md, "| ", key.first, " | ", Eps(key.first, key.second),
                    " |");
    for (const std::string& name : attacks) {
      const auto it = rows[key].find(name);
      absl::StrAppend(md, " ",
                      it == rows[key].end() ? "-" : Percent(it->second), " |");
    }
    std::string robust = "-";
    for (const AdversarialRobustAccuracy& r : a.robust()) {
      if (r.norm() == key.first && r.epsilon() == key.second) {
        robust = Percent(r.accuracy());
      }
    }
    absl::StrAppend(md, " ", robust, " |\n");
  }
  absl::StrAppend(md, "\n");
  for (const char* norm : {"linf", "l2"}) {
    for (const AdversarialRobustAccuracy& r : a.robust()) {
      if (r.norm() != norm) continue;
      absl::StrAppend(md, "![", norm, " attacks](", figures, "/adversarial_",
                      norm, ".png) ");
      break;
    }
  }
  absl::StrAppend(md, "\n\nGradient-masking checks:\n\n");
  for (const AdversarialMaskingCheck& c : a.checks()) {
    absl::StrAppend(md, "- ", c.passed() ? "passed" : "**FAILED**", " ",
                    c.check(), ": ", c.detail(), "\n");
  }
  absl::StrAppend(
      md,
      absl::StrFormat(
          "\n**Gradients and top-k routing.** The choice of each token's k "
          "experts is discrete: no gradient flows through it. Gradients do "
          "flow through the chosen experts' gate weights (the renormalised "
          "router probabilities) and the router's logits behind them, so a "
          "gradient attack sees the model as if the routing were frozen at "
          "the current point and cannot foresee a perturbation that flips an "
          "expert choice; where such a flip would help it, the loss surface "
          "jumps and the attack may look stronger or weaker than it is. The "
          "strongest PGD changed %s of the top-k assignments (all layers, "
          "tokens and k) of these images. This is why the score-based Square "
          "attack, which needs no gradient, is run beside the white-box "
          "ones: if it beat them, the robust accuracy above would be an "
          "artefact of masked gradients.\n",
          Percent(a.routing_change_share())));
}

}  // namespace

void AppendOodAndAdversarialMarkdown(const EvaluationReport& r,
                                     const std::string& figures,
                                     std::string* md) {
  if (r.has_ood()) OodMarkdown(r.ood(), figures, md);
  if (r.has_adversarial()) AdversarialMarkdown(r.adversarial(), figures, md);
}

absl::Status PlotOodAndAdversarial(const EvaluationReport& r,
                                   const std::string& figures_dir,
                                   std::vector<std::string>* written) {
  auto path = [&](const std::string& name) {
    written->push_back(figures_dir + "/" + name);
    return written->back();
  };
  for (const OodScore& s : r.ood().scores()) {
    // Histograms as shares of each set, so sources of any size compare.
    const int bins = s.in_histogram_size();
    if (bins == 0) continue;
    const double width = (s.histogram_upper() - s.histogram_lower()) / bins;
    auto series = [&](const std::string& label, const auto& counts) {
      Series line{label, {}, {}};
      double total = 0;
      for (int64_t c : counts) total += c;
      for (int i = 0; i < bins; ++i) {
        line.x.push_back(s.histogram_lower() + (i + 0.5) * width);
        line.y.push_back(total > 0 ? counts[i] / total : 0);
      }
      return line;
    };
    std::vector<Series> histogram = {
        series("in-distribution", s.in_histogram())};
    std::vector<Series> roc;
    for (const OodResult& res : r.ood().results()) {
      if (res.score() != s.score()) continue;
      if (res.out_histogram_size() == bins) {
        histogram.push_back(series(res.source(), res.out_histogram()));
      }
      roc.push_back(
          {absl::StrFormat("%s (AUROC %.3f)", res.source(), res.auroc()),
           {res.roc_fpr().begin(), res.roc_fpr().end()},
           {res.roc_tpr().begin(), res.roc_tpr().end()}});
    }
    LineOptions from_zero;
    from_zero.y_min = 0;
    RETURN_IF_ERROR(
        PlotLines(path(absl::StrCat("ood_histogram_", s.score(), ".png")),
                  absl::StrCat("OOD score ", s.score(), ": in vs out"),
                  absl::StrCat(s.score(), " (higher = in-distribution)"),
                  "share of images per bin", histogram, from_zero));
    roc.push_back({"chance", {0, 1}, {0, 1}});
    LineOptions unit;
    unit.y_min = 0;
    unit.y_max = 1;
    RETURN_IF_ERROR(PlotLines(
        path(absl::StrCat("ood_roc_", s.score(), ".png")),
        absl::StrCat("ROC of ", s.score(), " (in-distribution positive)"),
        "false positive rate (OOD accepted)",
        "true positive rate (in-distribution accepted)", roc, unit));
  }
  if (r.has_adversarial()) {
    const AdversarialRobustness& a = r.adversarial();
    for (const char* norm : {"linf", "l2"}) {
      std::map<std::string, Series> lines;
      std::vector<std::string> names;
      for (const AdversarialAttackResult& res : a.attacks()) {
        if (res.norm() != norm) continue;
        if (!lines.count(res.attack())) {
          names.push_back(res.attack());
          lines[res.attack()] = {res.attack(), {0}, {a.clean_accuracy()}};
        }
        lines[res.attack()].x.push_back(res.epsilon());
        lines[res.attack()].y.push_back(res.accuracy());
      }
      if (names.empty()) continue;
      std::vector<Series> series;
      for (const std::string& name : names) series.push_back(lines[name]);
      LineOptions unit;
      unit.y_min = 0;
      unit.y_max = 1;
      unit.markers = true;
      RETURN_IF_ERROR(PlotLines(
          path(absl::StrCat("adversarial_", norm, ".png")),
          absl::StrCat("Accuracy under ", norm, " attacks (eps 0 = clean)"),
          "epsilon (pixel units)", "accuracy", series, unit));
    }
  }
  return absl::OkStatus();
}

}  // namespace vit_moe::eval
