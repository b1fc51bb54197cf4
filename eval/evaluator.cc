#include "eval/evaluator.h"

#include <glog/logging.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "augment/batch_transforms.h"
#include "common/digest.h"
#include "common/numeric_environment.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/artifact_fit.h"
#include "data/dataset.pb.h"
#include "data/loader.h"
#include "data/normalization.h"
#include "data/store.h"
#include "eval/adversarial_evaluation.h"
#include "eval/classify.h"
#include "eval/corruptions.h"
#include "eval/metrics.h"
#include "eval/ood_evaluation.h"
#include "eval/split_outputs.h"
#include "eval/utilisation.h"
#include "model/checkpoint.h"
#include "model/precision.h"
#include "model/vit_moe.h"

namespace vit_moe::eval {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The split `name` (given as `flag`), refused when the store lacks it or
// it holds no images.
absl::StatusOr<const data::SplitData*> NonEmptySplit(
    const data::DatasetStore& store, absl::string_view flag,
    const std::string& name, const EvaluateOptions& options) {
  absl::StatusOr<const data::SplitData*> split = store.split(name);
  if (!split.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", name, ": ", split.status().message()));
  }
  if ((*split)->labels.size(0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", name, ": the split has no images in ",
                     options.manifest_path));
  }
  return *split;
}

// One timed inference: normalization, the copy to the device and the
// forward pass, as a deployed classifier runs them.
void TimedForward(EvaluationContext& ctx, const torch::Tensor& images_u8) {
  const torch::Tensor x =
      data::NormalizeImages(images_u8, ctx.norm).to(ctx.device);
  model::AutocastScope autocast(ctx.precision, ctx.device);
  ctx.model->forward(x);
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

Latency MeasureLatency(EvaluationContext& ctx, const data::SplitData& split,
                       int runs) {
  // [N, H, W, C] -> [B, C, H, W], as the loader yields them.
  const int64_t n = split.images.size(0);
  const torch::Tensor one =
      split.images.slice(0, 0, 1).permute({0, 3, 1, 2}).contiguous();
  const torch::Tensor many =
      split.images.slice(0, 0, std::min(n, ctx.batch_size))
          .permute({0, 3, 1, 2})
          .contiguous();
  for (int i = 0; i < 5; ++i) TimedForward(ctx, one);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    TimedForward(ctx, one);
    Synchronize(ctx.device);
    ms.push_back(1000 * Seconds(start));
  }
  std::sort(ms.begin(), ms.end());
  auto percentile = [&](double q) {
    return ms[std::min<size_t>(ms.size() - 1, q * ms.size())];
  };
  TimedForward(ctx, many);
  constexpr int kThroughputRuns = 3;
  const auto start = Clock::now();
  for (int i = 0; i < kThroughputRuns; ++i) TimedForward(ctx, many);
  Synchronize(ctx.device);
  Latency latency;
  latency.set_batch1_p50_ms(percentile(0.50));
  latency.set_batch1_p95_ms(percentile(0.95));
  latency.set_batch_size(many.size(0));
  latency.set_images_per_second(kThroughputRuns * many.size(0) /
                                Seconds(start));
  latency.set_threads(torch::get_num_threads());
  latency.set_device(ctx.device.str());
  return latency;
}

void AddCorruptions(EvaluationContext& ctx, const data::SplitData& split,
                    const torch::Tensor& clean_logits,
                    const EvaluateOptions& options, EvaluationReport* report) {
  const int64_t m = std::min(options.corruption_images, clean_logits.size(0));
  const torch::Tensor labels = FirstLabels(split, m);
  report->set_corruption_images(m);
  report->set_corruption_seed(options.corruption_seed);
  report->set_corruption_clean_accuracy(
      TopKAccuracy(clean_logits.slice(0, 0, m), labels, 1));
  double sum = 0;
  const auto start = Clock::now();
  for (Corruption c : AllCorruptions()) {
    for (int s = 1; s <= kMaxSeverity; ++s) {
      auto corrupt = [c, s, seed = options.corruption_seed](data::Batch b) {
        b.images = Corrupt(b.images, b.indices, c, s, seed);
        return b;
      };
      const torch::Tensor logits =
          RunSplit(ctx, split, m, corrupt, /*counter=*/nullptr).logits;
      CorruptionResult* r = report->add_corruptions();
      r->set_corruption(CorruptionName(c));
      r->set_severity(s);
      r->set_accuracy(TopKAccuracy(logits, labels, 1));
      sum += r->accuracy();
    }
    LOG(INFO) << "corruption " << CorruptionName(c) << ": severity 1..5 done ("
              << static_cast<int>(Seconds(start)) << " s)";
  }
  report->set_mean_corruption_accuracy(sum / report->corruptions_size());
}

}  // namespace

absl::StatusOr<EvaluationReport> Evaluate(const EvaluateOptions& options) {
  torch::NoGradGuard no_grad;
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(data::DatasetStore store,
                   data::DatasetStore::Open(options.manifest_path));
  // Both splits are known and hold images before any forward pass.
  ASSIGN_OR_RETURN(const data::SplitData* split,
                   NonEmptySplit(store, "--split", options.split, options));
  const data::SplitData* held_out = nullptr;
  if (!options.temperature_split.empty()) {
    ASSIGN_OR_RETURN(held_out,
                     NonEmptySplit(store, "--temperature_split",
                                   options.temperature_split, options));
  }
  ASSIGN_OR_RETURN(data::Normalization norm,
                   data::ReadNormalization(options.normalization_path));
  const data::Artifact manifest_file{"--manifest", options.manifest_path};
  RETURN_IF_ERROR(data::CheckNormalizationFitsStore(
      norm, {"--normalization", options.normalization_path}, store.manifest(),
      store.manifest_sha256(), manifest_file));
  ASSIGN_OR_RETURN(model::ViTMoE net,
                   model::LoadModel(options.model_path, options.device));
  const model::ModelConfig& config = net->config();
  RETURN_IF_ERROR(data::CheckModelFitsStore(
      config.image_size(), config.in_channels(), config.num_classes(),
      {"--model", options.model_path}, store.manifest(), manifest_file));
  std::optional<data::DatasetStore> ood_store;
  if (options.ood.images > 0 && !options.ood.manifest_path.empty()) {
    ASSIGN_OR_RETURN(ood_store,
                     data::DatasetStore::Open(options.ood.manifest_path));
    RETURN_IF_ERROR(CheckOodStore(*ood_store, options.ood, net->config()));
  }
  const int64_t split_images =
      options.limit_images > 0
          ? std::min(options.limit_images, split->labels.size(0))
          : split->labels.size(0);
  RETURN_IF_ERROR(
      ValidateAdversarialOptions(options.adversarial, split_images));
  // After the artifact checks: the calibration's size depends on the split.
  RETURN_IF_ERROR(CheckCoverageOptions(options.coverage, split_images));
  net->eval();
  EvaluationContext ctx{net, norm, options.device,
                        std::max<int64_t>(1, options.batch_size),
                        options.precision};

  EvaluationReport report;
  report.set_split(split->name);
  report.set_dataset(data::DatasetName_Name(store.manifest().dataset()));
  report.set_checkpoint_path(options.model_path);
  report.set_precision(options.precision.bf16 ? "bf16_mixed" : "float32");
  *report.mutable_numeric_environment() = CaptureNumericEnvironment(
      torch::get_num_threads(), options.device.str(), report.precision());
  LOG(INFO) << DescribeNumericEnvironment(report.numeric_environment());
  report.set_trainable_parameters(model::CountTrainableParameters(net));
  ASSIGN_OR_RETURN(std::string model_sha, Sha256OfFile(options.model_path));
  ASSIGN_OR_RETURN(std::string norm_sha,
                   Sha256OfFile(options.normalization_path));
  report.set_checkpoint_sha256(model_sha);
  report.set_normalization_sha256(norm_sha);
  report.set_manifest_sha256(store.manifest_sha256());

  // Clean accuracy, per-class metrics, calibration, selective risk, routing.
  const int64_t num_classes = store.num_classes();
  UtilisationCounter counter(num_classes,
                             std::max(1, net->config().moe().num_experts()));
  const SplitOutputs outputs =
      RunSplit(ctx, *split, options.limit_images, nullptr, &counter);
  const torch::Tensor& logits = outputs.logits;
  const torch::Tensor labels = FirstLabels(*split, options.limit_images);
  const int64_t n = labels.size(0);
  LOG(INFO) << "evaluated " << n << " " << split->name << " images in "
            << Seconds(start) << " s";
  report.set_num_images(n);
  report.set_top1_accuracy(TopKAccuracy(logits, labels, 1));
  report.set_top5_accuracy(TopKAccuracy(logits, labels, 5));
  report.set_nll(MeanNll(logits, labels));
  const torch::Tensor predicted = logits.argmax(1);
  const torch::Tensor confusion =
      ConfusionMatrix(predicted, labels, num_classes);
  const int64_t* counts = confusion.data_ptr<int64_t>();
  report.mutable_confusion()->Add(counts, counts + confusion.numel());
  std::vector<std::string> names(store.manifest().class_names().begin(),
                                 store.manifest().class_names().end());
  for (ClassMetrics& m : PerClassMetrics(confusion, names)) {
    *report.add_per_class() = std::move(m);
  }
  const torch::Tensor probabilities = torch::softmax(logits, 1);
  *report.mutable_calibration() = MeasureCalibration(probabilities, labels);
  report.mutable_calibration()->set_nll(report.nll());
  const SelectiveRisk risk = MeasureSelectiveRisk(
      std::get<0>(probabilities.max(1)), predicted == labels);
  for (const RiskCoveragePoint& p : risk.curve) *report.add_risk_coverage() = p;
  report.set_aurc(risk.aurc);
  report.set_risk_at_99(risk.risk_at_99);
  report.set_risk_at_95(risk.risk_at_95);
  report.set_risk_at_90(risk.risk_at_90);
  for (LayerUtilisation& u : counter.Result()) {
    *report.add_utilisation() = std::move(u);
  }

  // Temperature fitted on held-out data, applied to the evaluated split.
  report.set_temperature(1.0);
  SplitOutputs held_outputs;
  if (held_out != nullptr) {
    held_outputs =
        RunSplit(ctx, *held_out, options.limit_images, nullptr, nullptr);
    const torch::Tensor& held_logits = held_outputs.logits;
    const torch::Tensor held_labels =
        FirstLabels(*held_out, options.limit_images);
    auto temperature = FitTemperature(held_logits, held_labels);
    if (!temperature.ok()) {
      return absl::Status(temperature.status().code(),
                          absl::StrCat(options.model_path, " on split '",
                                       options.temperature_split,
                                       "': ", temperature.status().message()));
    }
    report.set_temperature(*temperature);
    report.set_temperature_fit_images(held_labels.size(0));
    *report.mutable_calibration_scaled() =
        MeasureCalibration(torch::softmax(logits / *temperature, 1), labels);
    report.mutable_calibration_scaled()->set_nll(
        MeanNll(logits, labels, *temperature));
    LOG(INFO) << "temperature " << *temperature << " fitted on "
              << held_labels.size(0) << " " << held_out->name << " images";
  }
  // What //eval:predict --abstain_below needs to state the coverage and
  // risk of its threshold on this split.
  *report.mutable_scaled_confidences() =
      MeasureScaledConfidences(logits, labels, report.temperature());
  RETURN_IF_ERROR(AddCoverageSections(logits, labels, report.temperature(),
                                      options.coverage, &report));

  if (options.corruption_images > 0) {
    AddCorruptions(ctx, *split, logits, options, &report);
  }
  if (options.ood.images > 0) {
    const data::SplitData* held_split = nullptr;
    if (held_outputs.logits.defined()) {
      ASSIGN_OR_RETURN(held_split, store.split(options.temperature_split));
    }
    ASSIGN_OR_RETURN(
        *report.mutable_ood(),
        MeasureOod(ctx, store, *split, outputs, held_split,
                   held_split != nullptr ? &held_outputs : nullptr,
                   ood_store ? &*ood_store : nullptr, options.ood));
  }
  if (options.adversarial.images > 0) {
    ASSIGN_OR_RETURN(
        *report.mutable_adversarial(),
        MeasureModelRobustness(ctx, *split, logits, options.adversarial));
    for (const AdversarialMaskingCheck& c : report.adversarial().checks()) {
      if (!c.passed()) {
        LOG(WARNING) << "gradient-masking check " << c.check()
                     << " FAILED: " << c.detail()
                     << "; the robust accuracies are not evidence";
      }
    }
  }
  if (options.latency_runs > 0) {
    *report.mutable_latency() =
        MeasureLatency(ctx, *split, options.latency_runs);
  }
  LOG(INFO) << "evaluation done in " << static_cast<int>(Seconds(start))
            << " s";
  return report;
}

}  // namespace vit_moe::eval
