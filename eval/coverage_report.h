// The evaluation report's statistical sections, computed from the
// evaluated split's logits and labels: confidence intervals beside the
// headline numbers, split-conformal prediction sets with their coverage
// law, and every image's top-1 correctness for paired comparisons.
//
// Which images do what: the temperature is fitted on another split (the
// validation split, which also chose the training's best epoch); a seeded
// permutation of the evaluated split gives the conformal calibration
// images (`calibration_fraction` of them) and the conformal test images
// where coverage is measured. Top-1, ECE and the other numbers use every
// image of the evaluated split.
#ifndef VIT_MOE_EVAL_COVERAGE_REPORT_H_
#define VIT_MOE_EVAL_COVERAGE_REPORT_H_

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "eval/conformal.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

struct CoverageOptions {
  // Miscoverage levels of the conformal sets; empty skips them.
  std::vector<double> alphas = {0.1, 0.05, 0.01};
  // Seed of the calibration / test permutation of the evaluated split.
  uint64_t seed = 0;
  // Share of the evaluated split that calibrates, in (0, 1).
  double calibration_fraction = 0.5;
  RapsSettings raps;
  // Central level of each coverage law interval.
  double law_level = 0.99;
  // Two-sided level of the confidence intervals (Wilson, bootstrap).
  double interval_level = 0.95;
  uint64_t bootstrap_seed = 0;
  int bootstrap_resamples = 500;
};

// InvalidArgument naming the flag when an option is out of range or when
// the calibration images of `images` evaluated are too few for an alpha:
// checked before any model runs.
absl::Status CheckCoverageOptions(const CoverageOptions& options,
                                  int64_t images);

// Fills report->intervals (needs per_class, top1, calibration and
// calibration_scaled set), report->conformal (unless no alphas) and
// report->per_image. `logits` [N, C] and `labels` [N] of the evaluated
// split in split order; `temperature` as fitted (1 without).
absl::Status AddCoverageSections(const torch::Tensor& logits,
                                 const torch::Tensor& labels,
                                 double temperature,
                                 const CoverageOptions& options,
                                 EvaluationReport* report);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_COVERAGE_REPORT_H_
