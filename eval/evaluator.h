// The evaluation stage: a model file + a dataset store + its normalization
// -> an EvaluationReport (accuracy, per-class metrics, calibration before
// and after temperature scaling, selective risk, corruption robustness,
// expert utilisation, latency).
#ifndef VIT_MOE_EVAL_EVALUATOR_H_
#define VIT_MOE_EVAL_EVALUATOR_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "eval/adversarial_evaluation.h"
#include "eval/coverage_report.h"
#include "eval/evaluation.pb.h"
#include "eval/ood_evaluation.h"
#include "model/precision.h"

namespace vit_moe::eval {

struct EvaluateOptions {
  std::string model_path;          // SaveModel file (best_model.pt)
  std::string manifest_path;       // DatasetManifest (manifest.pb)
  std::string normalization_path;  // Normalization (normalization.pb)
  std::string split = "test";      // split to evaluate
  // Split the temperature is fitted on; empty = no temperature scaling.
  std::string temperature_split = "validation";
  int64_t batch_size = 256;  // images per forward (also the throughput batch)
  // Use only the first N images of the split and of the temperature split
  // (0 = all); for quick runs.
  int64_t limit_images = 0;
  // Images of the corruption suite: the first N of the split (0 = skip).
  int64_t corruption_images = 1000;
  uint64_t corruption_seed = 0;
  int latency_runs = 50;  // timed batch-1 forwards (0 = skip latency)
  torch::Device device = torch::kCPU;
  // The autocast of every forward pass (model/precision.h); the report
  // records what ran.
  model::PrecisionChoice precision;
  // Confidence intervals, conformal sets, per-image correctness.
  CoverageOptions coverage;
  // Out-of-distribution detection (ood.images 0 = skip), its thresholds
  // fixed on `temperature_split`.
  OodOptions ood;
  // Adversarial robustness (adversarial.images 0 = skip).
  AdversarialOptions adversarial;
};

// Errors a user can cause (missing files, a model trained for another
// image size or class count, a normalization computed for another
// manifest, an OOD store of another image shape, an adversarial subset
// larger than the split or a negative epsilon) return InvalidArgument /
// NotFound / FailedPrecondition naming the file or flag, before any work.
// Progress goes to the INFO log.
absl::StatusOr<EvaluationReport> Evaluate(const EvaluateOptions& options);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_EVALUATOR_H_
