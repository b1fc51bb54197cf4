#include "eval/metrics.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>

namespace vit_moe::eval {
namespace {

torch::Tensor CpuDouble(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
}

torch::Tensor CpuLong(const torch::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kInt64).contiguous();
}

void CheckScores(const torch::Tensor& scores, const torch::Tensor& labels) {
  CHECK_EQ(scores.dim(), 2) << "scores must be [N, C]";
  CHECK_EQ(labels.dim(), 1) << "labels must be [N]";
  CHECK_EQ(scores.size(0), labels.size(0));
}

// Kept-first order of a selective classifier: most confident first, ties in
// input order (a stable sort), so results are reproducible.
torch::Tensor ErrorsInKeptOrder(const torch::Tensor& confidence,
                                const torch::Tensor& correct) {
  CHECK_EQ(confidence.dim(), 1);
  CHECK_EQ(correct.dim(), 1);
  CHECK_EQ(confidence.size(0), correct.size(0));
  const torch::Tensor order = std::get<1>(torch::sort(
      CpuDouble(confidence), /*stable=*/true, /*dim=*/0, /*descending=*/true));
  const torch::Tensor wrong =
      CpuLong(correct.to(torch::kBool).logical_not()).index_select(0, order);
  return wrong.cumsum(0);  // [N] errors among the k+1 most confident
}

double RiskOfFirst(const torch::Tensor& cumulative_errors, int64_t k) {
  return static_cast<double>(cumulative_errors[k - 1].item<int64_t>()) / k;
}

int64_t KeptCount(int64_t n, double coverage) {
  const int64_t k = static_cast<int64_t>(std::ceil(coverage * n - 1e-9));
  return std::clamp<int64_t>(k, 1, n);
}

}  // namespace

double TopKAccuracy(const torch::Tensor& scores, const torch::Tensor& labels,
                    int64_t k) {
  CheckScores(scores, labels);
  if (labels.size(0) == 0) return 0;
  k = std::min<int64_t>(k, scores.size(1));
  const torch::Tensor top = std::get<1>(CpuDouble(scores).topk(k, /*dim=*/1));
  const torch::Tensor hit = (top == CpuLong(labels).unsqueeze(1)).any(1);
  return hit.to(torch::kFloat64).mean().item<double>();
}

double MeanNll(const torch::Tensor& logits, const torch::Tensor& labels,
               double temperature) {
  CheckScores(logits, labels);
  if (labels.size(0) == 0) return 0;
  const torch::Tensor log_p =
      torch::log_softmax(CpuDouble(logits) / temperature, /*dim=*/1);
  return -log_p.gather(1, CpuLong(labels).unsqueeze(1)).mean().item<double>();
}

torch::Tensor ConfusionMatrix(const torch::Tensor& predicted,
                              const torch::Tensor& labels,
                              int64_t num_classes) {
  CHECK_EQ(predicted.dim(), 1);
  CHECK_EQ(predicted.sizes(), labels.sizes());
  const torch::Tensor cell = CpuLong(labels) * num_classes + CpuLong(predicted);
  return torch::bincount(cell, /*weights=*/{}, num_classes * num_classes)
      .view({num_classes, num_classes});
}

std::vector<ClassMetrics> PerClassMetrics(
    const torch::Tensor& confusion, const std::vector<std::string>& names) {
  const torch::Tensor counts = CpuLong(confusion);
  const int64_t c = counts.size(0);
  CHECK_EQ(counts.size(1), c);
  CHECK_EQ(static_cast<int64_t>(names.size()), c);
  const torch::Tensor predicted = counts.sum(0);  // [C] column sums
  const torch::Tensor actual = counts.sum(1);     // [C] row sums
  std::vector<ClassMetrics> result(c);
  for (int64_t i = 0; i < c; ++i) {
    const double hits = counts[i][i].item<int64_t>();
    const int64_t n_pred = predicted[i].item<int64_t>();
    const int64_t n_true = actual[i].item<int64_t>();
    ClassMetrics& m = result[i];
    m.set_name(names[i]);
    m.set_support(n_true);
    m.set_precision(n_pred > 0 ? hits / n_pred : 0.0);
    m.set_recall(n_true > 0 ? hits / n_true : 0.0);
    const double sum = m.precision() + m.recall();
    m.set_f1(sum > 0 ? 2 * m.precision() * m.recall() / sum : 0.0);
  }
  return result;
}

Calibration MeasureCalibration(const torch::Tensor& probabilities,
                               const torch::Tensor& labels, int num_bins) {
  CheckScores(probabilities, labels);
  CHECK_GT(num_bins, 0);
  const torch::Tensor p = CpuDouble(probabilities);
  const torch::Tensor y = CpuLong(labels);
  const int64_t n = y.size(0);
  Calibration result;
  std::vector<double> confidence_sum(num_bins, 0.0);
  std::vector<int64_t> count(num_bins, 0), hits(num_bins, 0);
  if (n > 0) {
    auto [confidence, predicted] = p.max(/*dim=*/1);
    const torch::Tensor picked = p.gather(1, y.unsqueeze(1)).squeeze(1);
    result.set_nll(-picked.clamp_min(1e-300).log().mean().item<double>());
    const auto conf = confidence.accessor<double, 1>();
    const auto pred = predicted.accessor<int64_t, 1>();
    const auto label = y.accessor<int64_t, 1>();
    for (int64_t i = 0; i < n; ++i) {
      const int bin =
          std::clamp(static_cast<int>(conf[i] * num_bins), 0, num_bins - 1);
      ++count[bin];
      confidence_sum[bin] += conf[i];
      hits[bin] += pred[i] == label[i];
    }
  }
  double ece = 0;
  for (int b = 0; b < num_bins; ++b) {
    ReliabilityBin* bin = result.add_bins();
    bin->set_lower(static_cast<double>(b) / num_bins);
    bin->set_upper(static_cast<double>(b + 1) / num_bins);
    bin->set_count(count[b]);
    if (count[b] == 0) continue;
    bin->set_mean_confidence(confidence_sum[b] / count[b]);
    bin->set_accuracy(static_cast<double>(hits[b]) / count[b]);
    ece += static_cast<double>(count[b]) / n *
           std::abs(bin->accuracy() - bin->mean_confidence());
  }
  result.set_ece(ece);
  return result;
}

absl::StatusOr<double> FitTemperature(const torch::Tensor& logits,
                                      const torch::Tensor& labels) {
  CheckScores(logits, labels);
  if (labels.size(0) == 0) {
    return absl::InvalidArgumentError(
        "cannot fit a temperature on an empty validation set");
  }
  const torch::Tensor z = CpuDouble(logits);
  if (!torch::isfinite(z).all().item<bool>()) {
    return absl::InvalidArgumentError(
        "cannot fit a temperature: the model produced non-finite logits");
  }
  auto nll = [&](double log_t) { return MeanNll(z, labels, std::exp(log_t)); };
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(0.05), b = std::log(20.0);
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  double fc = nll(c), fd = nll(d);
  for (int i = 0; i < 80 && b - a > 1e-7; ++i) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = nll(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = nll(d);
    }
  }
  return std::exp((a + b) / 2);
}

torch::Tensor TemperatureSoftmax(const torch::Tensor& logits,
                                 double temperature) {
  CHECK_GT(temperature, 0);
  return torch::softmax(CpuDouble(logits) / temperature, /*dim=*/1);
}

ScaledConfidences MeasureScaledConfidences(const torch::Tensor& logits,
                                           const torch::Tensor& labels,
                                           double temperature) {
  CheckScores(logits, labels);
  auto [confidence, predicted] =
      TemperatureSoftmax(logits, temperature).max(/*dim=*/1);
  const torch::Tensor order = std::get<1>(
      torch::sort(confidence, /*stable=*/true, /*dim=*/0, /*descending=*/true));
  const torch::Tensor sorted = confidence.index_select(0, order).contiguous();
  const torch::Tensor correct =
      (predicted == CpuLong(labels)).index_select(0, order).contiguous();
  ScaledConfidences result;
  result.mutable_confidence()->Add(sorted.data_ptr<double>(),
                                   sorted.data_ptr<double>() + sorted.numel());
  const bool* hits = correct.data_ptr<bool>();
  result.mutable_correct()->Add(hits, hits + correct.numel());
  return result;
}

SelectiveRisk MeasureSelectiveRisk(const torch::Tensor& confidence,
                                   const torch::Tensor& correct,
                                   int max_points) {
  CHECK_GT(max_points, 0);
  SelectiveRisk result;
  const int64_t n = confidence.size(0);
  if (n == 0) return result;
  const torch::Tensor errors = ErrorsInKeptOrder(confidence, correct);
  const torch::Tensor k = torch::arange(1, n + 1, torch::kFloat64);
  result.aurc = (errors.to(torch::kFloat64) / k).mean().item<double>();
  const int64_t points = std::min<int64_t>(max_points, n);
  for (int64_t j = 1; j <= points; ++j) {
    const int64_t kept = (j * n + points - 1) / points;  // ceil(j * n / P)
    RiskCoveragePoint point;
    point.set_coverage(static_cast<double>(kept) / n);
    point.set_risk(RiskOfFirst(errors, kept));
    result.curve.push_back(point);
  }
  result.risk_at_99 = RiskOfFirst(errors, KeptCount(n, 0.99));
  result.risk_at_95 = RiskOfFirst(errors, KeptCount(n, 0.95));
  result.risk_at_90 = RiskOfFirst(errors, KeptCount(n, 0.90));
  return result;
}

double RiskAtCoverage(const torch::Tensor& confidence,
                      const torch::Tensor& correct, double coverage) {
  const int64_t n = confidence.size(0);
  if (n == 0) return 0;
  return RiskOfFirst(ErrorsInKeptOrder(confidence, correct),
                     KeptCount(n, coverage));
}

}  // namespace vit_moe::eval
