#include "eval/coverage_report.h"

#include <glog/logging.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "eval/baseline_correctness.h"
#include "eval/metrics.h"
#include "eval/statistics.h"

namespace vit_moe::eval {
namespace {

void SetInterval(const ProportionInterval& from, IntervalEstimate* to) {
  to->set_low(from.low);
  to->set_high(from.high);
}

// The ECE of `probabilities` [N, C] over bootstrap resamples of the images.
ProportionInterval BootstrapEce(const torch::Tensor& probabilities,
                                const torch::Tensor& labels,
                                const CoverageOptions& options) {
  return BootstrapInterval(
      labels.size(0), options.bootstrap_resamples, options.bootstrap_seed,
      options.interval_level, [&](const std::vector<int64_t>& indices) {
        const torch::Tensor pick = torch::tensor(indices, torch::kInt64);
        return MeasureCalibration(probabilities.index_select(0, pick),
                                  labels.index_select(0, pick))
            .ece();
      });
}

void AddIntervals(const torch::Tensor& logits, const torch::Tensor& labels,
                  double temperature, const CoverageOptions& options,
                  EvaluationReport* report) {
  IntervalStatistics* s = report->mutable_intervals();
  s->set_level(options.interval_level);
  const int64_t n = labels.size(0);
  const int64_t hits =
      (logits.argmax(1).to(torch::kCPU) == labels.to(torch::kCPU))
          .sum()
          .item<int64_t>();
  SetInterval(WilsonInterval(hits, n, options.interval_level),
              s->mutable_top1_accuracy());
  const int64_t c = report->per_class_size();
  for (int64_t i = 0; i < c; ++i) {
    const int64_t right =
        report->confusion_size() == c * c ? report->confusion(i * c + i) : 0;
    SetInterval(WilsonInterval(right, report->per_class(i).support(),
                               options.interval_level),
                s->add_class_recall());
  }
  s->set_bootstrap_seed(options.bootstrap_seed);
  s->set_bootstrap_resamples(options.bootstrap_resamples);
  SetInterval(BootstrapEce(TemperatureSoftmax(logits, 1), labels, options),
              s->mutable_ece());
  if (report->has_calibration_scaled()) {
    SetInterval(
        BootstrapEce(TemperatureSoftmax(logits, temperature), labels, options),
        s->mutable_ece_scaled());
  }
}

absl::Status AddConformal(const torch::Tensor& logits,
                          const torch::Tensor& labels, double temperature,
                          const CoverageOptions& options,
                          EvaluationReport* report) {
  const ConformalSplit split = SplitForConformal(
      labels.size(0), options.calibration_fraction, options.seed);
  const torch::Tensor calibration =
      torch::tensor(split.calibration, torch::kInt64);
  const torch::Tensor test = torch::tensor(split.test, torch::kInt64);
  const torch::Tensor p = TemperatureSoftmax(logits, temperature);
  const torch::Tensor y = labels.to(torch::kCPU, torch::kInt64);
  ConformalReport* c = report->mutable_conformal();
  c->set_seed(options.seed);
  c->set_calibration_images(split.calibration.size());
  c->set_test_images(split.test.size());
  c->set_raps_k_reg(options.raps.k_reg);
  c->set_raps_lambda(options.raps.lambda);
  c->set_law_level(options.law_level);
  c->set_temperature(temperature);
  for (ConformalScore score : AllConformalScores()) {
    for (double alpha : options.alphas) {
      auto result = MeasureConformal(
          p.index_select(0, calibration), y.index_select(0, calibration),
          p.index_select(0, test), y.index_select(0, test), score, options.raps,
          alpha, options.interval_level, options.law_level);
      if (!result.ok()) return result.status();
      *c->add_results() = *std::move(result);
    }
  }
  const torch::Tensor z = logits.to(torch::kCPU);
  *c->mutable_calibration_confidences() =
      MeasureScaledConfidences(z.index_select(0, calibration),
                               y.index_select(0, calibration), temperature);
  *c->mutable_test_confidences() = MeasureScaledConfidences(
      z.index_select(0, test), y.index_select(0, test), temperature);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCoverageOptions(const CoverageOptions& options,
                                  int64_t images) {
  if (!(options.calibration_fraction > 0 && options.calibration_fraction < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--conformal_calibration_fraction must be in (0, 1) (got ",
                     options.calibration_fraction, ")"));
  }
  if (options.raps.k_reg < 0 || !(options.raps.lambda >= 0) ||
      !std::isfinite(options.raps.lambda)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--raps_k_reg and --raps_lambda must not be negative (got ",
        options.raps.k_reg, " and ", options.raps.lambda, ")"));
  }
  if (options.bootstrap_resamples < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bootstrap_resamples must be at least 1 (got ",
                     options.bootstrap_resamples, ")"));
  }
  const int64_t calibration =
      ConformalCalibrationSize(images, options.calibration_fraction);
  for (double alpha : options.alphas) {
    if (absl::Status s =
            CheckConformalAlpha(alpha, calibration, "--conformal_alphas");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status AddCoverageSections(const torch::Tensor& logits,
                                 const torch::Tensor& labels,
                                 double temperature,
                                 const CoverageOptions& options,
                                 EvaluationReport* report) {
  AddIntervals(logits, labels, temperature, options, report);
  if (!options.alphas.empty()) {
    if (absl::Status s =
            AddConformal(logits, labels, temperature, options, report);
        !s.ok()) {
      return s;
    }
  }
  const torch::Tensor right =
      (logits.argmax(1).to(torch::kCPU) == labels.to(torch::kCPU)).contiguous();
  const bool* hit = right.data_ptr<bool>();
  report->mutable_per_image()->set_top1_correct(
      PackCorrectness(std::vector<bool>(hit, hit + right.numel())));
  return absl::OkStatus();
}

}  // namespace vit_moe::eval
