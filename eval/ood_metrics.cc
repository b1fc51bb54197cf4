#include "eval/ood_metrics.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace vit_moe::eval {
namespace {

// (score, is_in) sorted by descending score.
std::vector<std::pair<double, bool>> Ranked(const std::vector<double>& in,
                                            const std::vector<double>& out) {
  CHECK(!in.empty() && !out.empty()) << "OOD metrics need both sets";
  std::vector<std::pair<double, bool>> all;
  all.reserve(in.size() + out.size());
  for (double s : in) all.emplace_back(s, true);
  for (double s : out) all.emplace_back(s, false);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  return all;
}

// Calls visit(in_so_far, out_so_far) after each group of equal scores,
// walking from the highest score down.
void ForEachThreshold(const std::vector<std::pair<double, bool>>& ranked,
                      const std::function<void(double, double)>& visit) {
  double in = 0, out = 0;
  for (size_t i = 0; i < ranked.size();) {
    size_t j = i;
    for (; j < ranked.size() && ranked[j].first == ranked[i].first; ++j) {
      (ranked[j].second ? in : out) += 1;
    }
    visit(in, out);
    i = j;
  }
}

}  // namespace

double Auroc(const std::vector<double>& in, const std::vector<double>& out) {
  const auto ranked = Ranked(in, out);
  // Each group of ties: its outs are beaten by every in above the group and
  // tie with the group's ins.
  double wins = 0, in_above = 0, prev_in = 0, prev_out = 0;
  ForEachThreshold(ranked, [&](double in_count, double out_count) {
    const double group_in = in_count - prev_in;
    const double group_out = out_count - prev_out;
    wins += group_out * (in_above + 0.5 * group_in);
    in_above = in_count;
    prev_in = in_count;
    prev_out = out_count;
  });
  return wins / (static_cast<double>(in.size()) * out.size());
}

double AveragePrecision(const std::vector<double>& positive,
                        const std::vector<double>& negative) {
  const auto ranked = Ranked(positive, negative);
  double ap = 0, prev_recall = 0;
  const double n = positive.size();
  ForEachThreshold(ranked, [&](double tp, double fp) {
    const double recall = tp / n;
    ap += (recall - prev_recall) * tp / (tp + fp);
    prev_recall = recall;
  });
  return ap;
}

double AcceptanceThreshold(const std::vector<double>& in,
                           double accepted_share) {
  CHECK(!in.empty());
  CHECK(accepted_share > 0 && accepted_share <= 1);
  std::vector<double> sorted = in;
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  // The small slack keeps 0.95 * 20 = 19 from becoming 19.000000000000004.
  const size_t k =
      static_cast<size_t>(std::ceil(accepted_share * sorted.size() - 1e-9));
  return sorted[std::max<size_t>(k, 1) - 1];
}

double ShareAtLeast(const std::vector<double>& scores, double threshold) {
  CHECK(!scores.empty());
  return static_cast<double>(
             std::count_if(scores.begin(), scores.end(),
                           [threshold](double s) { return s >= threshold; })) /
         scores.size();
}

double FprAt95Tpr(const std::vector<double>& in,
                  const std::vector<double>& out) {
  return ShareAtLeast(out, AcceptanceThreshold(in, 0.95));
}

RocCurve Roc(const std::vector<double>& in, const std::vector<double>& out,
             int max_points) {
  CHECK_GE(max_points, 2);
  std::vector<std::pair<double, double>> points = {{0, 0}};
  ForEachThreshold(Ranked(in, out), [&](double tp, double fp) {
    points.emplace_back(fp / out.size(), tp / in.size());
  });
  RocCurve curve;
  const size_t n = points.size();
  const size_t kept = std::min<size_t>(n, max_points);
  for (size_t i = 0; i < kept; ++i) {
    const auto& p = points[i * (n - 1) / (kept - 1)];
    curve.fpr.push_back(p.first);
    curve.tpr.push_back(p.second);
  }
  return curve;
}

}  // namespace vit_moe::eval
