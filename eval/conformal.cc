#include "eval/conformal.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "eval/statistics.h"

namespace vit_moe::eval {
namespace {

torch::Tensor CpuDouble(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
}

// l = floor((n + 1) alpha): the calibration scores allowed above the
// threshold. The tolerance keeps (n + 1) alpha = 10 exactly 10 when alpha is
// 0.1 in binary; the threshold's rank is n + 1 - l.
int64_t ExcludedRank(int64_t n, double alpha) {
  return static_cast<int64_t>(std::floor((n + 1) * alpha + 1e-9));
}

}  // namespace

std::vector<ConformalScore> AllConformalScores() {
  return {ConformalScore::kLac, ConformalScore::kAps, ConformalScore::kRaps};
}

const char* ConformalScoreName(ConformalScore score) {
  switch (score) {
    case ConformalScore::kLac:
      return "lac";
    case ConformalScore::kAps:
      return "aps";
    case ConformalScore::kRaps:
      return "raps";
  }
  LOG(FATAL) << "unknown conformal score";
}

absl::StatusOr<ConformalScore> ParseConformalScore(absl::string_view name) {
  for (ConformalScore score : AllConformalScores()) {
    if (name == ConformalScoreName(score)) return score;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown conformal score '", name, "': expected lac, aps or raps"));
}

torch::Tensor ClassScores(const torch::Tensor& probabilities,
                          ConformalScore score, const RapsSettings& raps) {
  CHECK_EQ(probabilities.dim(), 2) << "probabilities must be [N, C]";
  const torch::Tensor p = CpuDouble(probabilities);
  if (score == ConformalScore::kLac) return 1 - p;
  // Classes by decreasing probability, ties in class order.
  auto [sorted, order] =
      torch::sort(p, /*stable=*/true, /*dim=*/1, /*descending=*/true);
  // [N, C]: the mass ranked strictly above each rank, so the top class
  // scores 0 and every set holds it.
  torch::Tensor by_rank = sorted.cumsum(1) - sorted;
  if (score == ConformalScore::kRaps) {
    const torch::Tensor rank =
        torch::arange(1, p.size(1) + 1, torch::kFloat64);  // [C], 1-based
    by_rank = by_rank + raps.lambda * (rank - raps.k_reg).clamp_min(0);
  }
  return torch::empty_like(p).scatter_(1, order, by_rank);
}

absl::Status CheckConformalAlpha(double alpha, int64_t calibration_images,
                                 absl::string_view what) {
  if (!(alpha > 0 && alpha < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": alpha must be in (0, 1) (got ", alpha, ")"));
  }
  if (ExcludedRank(calibration_images, alpha) < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": alpha ", alpha, " needs at least ",
        static_cast<int64_t>(std::ceil(1 / alpha - 1 - 1e-9)),
        " calibration images (n >= 1/alpha - 1), but the calibration split "
        "has ",
        calibration_images));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> ConformalThreshold(const torch::Tensor& scores,
                                          double alpha) {
  CHECK_EQ(scores.dim(), 1);
  const int64_t n = scores.size(0);
  if (absl::Status s = CheckConformalAlpha(alpha, n, "conformal threshold");
      !s.ok()) {
    return s;
  }
  const int64_t rank = n + 1 - ExcludedRank(n, alpha);  // 1-based
  const torch::Tensor sorted = std::get<0>(torch::sort(CpuDouble(scores)));
  return sorted[rank - 1].item<double>();
}

torch::Tensor PredictionSets(const torch::Tensor& probabilities,
                             ConformalScore score, const RapsSettings& raps,
                             double threshold) {
  return ClassScores(probabilities, score, raps) <= threshold;
}

CoverageLaw SplitConformalCoverageLaw(int64_t calibration_images, double alpha,
                                      double level) {
  const int64_t n = calibration_images;
  const int64_t l = ExcludedRank(n, alpha);
  CHECK_GE(l, 1) << "calibration set too small for alpha " << alpha;
  const double a = n + 1 - l, b = l;
  return {a / (a + b), BetaQuantile(a, b, (1 - level) / 2),
          BetaQuantile(a, b, (1 + level) / 2)};
}

int64_t ConformalCalibrationSize(int64_t n, double calibration_fraction) {
  return static_cast<int64_t>(std::floor(n * calibration_fraction));
}

ConformalSplit SplitForConformal(int64_t n, double calibration_fraction,
                                 uint64_t seed) {
  CHECK_GE(n, 0);
  CHECK(calibration_fraction > 0 && calibration_fraction < 1);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 generator(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[i], order[UniformIndex(generator, i + 1)]);
  }
  const int64_t m = ConformalCalibrationSize(n, calibration_fraction);
  ConformalSplit split;
  split.calibration.assign(order.begin(), order.begin() + m);
  split.test.assign(order.begin() + m, order.end());
  std::sort(split.calibration.begin(), split.calibration.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

absl::StatusOr<ConformalResult> MeasureConformal(
    const torch::Tensor& calibration_probabilities,
    const torch::Tensor& calibration_labels,
    const torch::Tensor& test_probabilities, const torch::Tensor& test_labels,
    ConformalScore score, const RapsSettings& raps, double alpha,
    double interval_level, double law_level) {
  const torch::Tensor calibration_scores =
      ClassScores(calibration_probabilities, score, raps)
          .gather(
              1, calibration_labels.to(torch::kCPU, torch::kInt64).unsqueeze(1))
          .squeeze(1);
  const int64_t n = calibration_scores.size(0);
  ConformalResult result;
  result.set_score(ConformalScoreName(score));
  result.set_alpha(alpha);
  auto threshold = ConformalThreshold(calibration_scores, alpha);
  if (!threshold.ok()) return threshold.status();
  result.set_threshold(*threshold);
  const CoverageLaw law = SplitConformalCoverageLaw(n, alpha, law_level);
  result.set_law_mean(law.mean);
  result.mutable_law_interval()->set_low(law.low);
  result.mutable_law_interval()->set_high(law.high);

  const torch::Tensor sets =
      PredictionSets(test_probabilities, score, raps, *threshold);  // [M, C]
  const torch::Tensor labels =
      test_labels.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor covered =
      sets.gather(1, labels.unsqueeze(1)).squeeze(1).contiguous();  // [M]
  const torch::Tensor sizes = sets.sum(1).contiguous();             // [M]
  const int64_t m = labels.size(0);
  const int64_t classes = sets.size(1);
  std::vector<int64_t> size_images(classes + 1, 0),
      size_covered(classes + 1, 0);
  std::vector<int64_t> class_images(classes, 0), class_covered(classes, 0);
  const auto size_at = sizes.accessor<int64_t, 1>();
  const auto covered_at = covered.accessor<bool, 1>();
  const auto label_at = labels.accessor<int64_t, 1>();
  int64_t hits = 0, total_size = 0;
  for (int64_t i = 0; i < m; ++i) {
    const bool hit = covered_at[i];
    hits += hit;
    total_size += size_at[i];
    ++size_images[size_at[i]];
    size_covered[size_at[i]] += hit;
    ++class_images[label_at[i]];
    class_covered[label_at[i]] += hit;
  }
  result.set_covered(hits);
  result.set_coverage(m > 0 ? static_cast<double>(hits) / m : 0);
  const ProportionInterval wilson = WilsonInterval(hits, m, interval_level);
  result.mutable_coverage_wilson()->set_low(wilson.low);
  result.mutable_coverage_wilson()->set_high(wilson.high);
  result.set_mean_set_size(m > 0 ? static_cast<double>(total_size) / m : 0);
  result.mutable_set_size_images()->Add(size_images.begin(), size_images.end());
  result.mutable_set_size_covered()->Add(size_covered.begin(),
                                         size_covered.end());
  result.mutable_class_images()->Add(class_images.begin(), class_images.end());
  result.mutable_class_covered()->Add(class_covered.begin(),
                                      class_covered.end());
  return result;
}

}  // namespace vit_moe::eval
