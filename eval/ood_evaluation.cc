#include "eval/ood_evaluation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "data/dataset.pb.h"
#include "eval/ood_metrics.h"
#include "eval/ood_scores.h"
#include "eval/ood_sources.h"

namespace vit_moe::eval {
namespace {

constexpr int kHistogramBins = 40;
constexpr int kRocPoints = 101;
constexpr double kAccepted = 0.95;

std::vector<double> Values(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(),
                             c.data_ptr<double>() + c.numel());
}

// A seeded subset of the train split, in split order.
data::SplitData FitSubset(const data::SplitData& train, int64_t count,
                          uint64_t seed) {
  const int64_t n = train.labels.size(0);
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const torch::Tensor rows = std::get<0>(
      torch::randperm(n, gen, torch::kInt64).slice(0, 0, count).sort());
  return {train.name, train.images.index_select(0, rows).contiguous(),
          train.labels.index_select(0, rows)};
}

std::vector<int64_t> Histogram(const std::vector<double>& values, double lower,
                               double upper) {
  std::vector<int64_t> counts(kHistogramBins, 0);
  const double width = (upper - lower) / kHistogramBins;
  for (double v : values) {
    const int bin =
        width > 0 ? static_cast<int>(std::floor((v - lower) / width)) : 0;
    ++counts[std::clamp(bin, 0, kHistogramBins - 1)];
  }
  return counts;
}

double Quantile(std::vector<double> values, double q) {
  const size_t k =
      std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

struct Source {
  OodSource info;
  SplitOutputs outputs;
};

}  // namespace

absl::Status CheckOodStore(const data::DatasetStore& ood,
                           const OodOptions& options,
                           const model::ModelConfig& config) {
  const data::DatasetManifest& m = ood.manifest();
  if (m.height() != config.image_size() || m.width() != config.image_size() ||
      m.channels() != config.in_channels()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ood_manifest ", options.manifest_path, " stores ",
                     m.height(), "x", m.width(), "x", m.channels(),
                     " images but the model expects ", config.image_size(), "x",
                     config.image_size(), "x", config.in_channels()));
  }
  ASSIGN_OR_RETURN(const data::SplitData* split, ood.split(options.split));
  if (split->labels.size(0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ood_manifest ", options.manifest_path, ": split '",
                     options.split, "' has no images"));
  }
  return absl::OkStatus();
}

absl::StatusOr<OodDetection> MeasureOod(
    EvaluationContext& ctx, const data::DatasetStore& store,
    const data::SplitData& evaluated_split, const SplitOutputs& evaluated,
    const data::SplitData* validation_split, const SplitOutputs* validation,
    const data::DatasetStore* ood_store, const OodOptions& options) {
  OodDetection ood;
  ood.set_seed(options.seed);
  ood.set_knn_k(options.knn_k);
  ood.set_energy_temperature(kEnergyTemperature);
  ood.set_in_distribution_images(evaluated.logits.size(0));

  ASSIGN_OR_RETURN(const data::SplitData* train, store.split("train"));
  const int64_t fit_count = std::min(options.fit_images, train->labels.size(0));
  if (fit_count <= 0) {
    return absl::FailedPreconditionError(
        "out-of-distribution scores need a non-empty 'train' split to fit "
        "on");
  }
  const data::SplitData fit_split = FitSubset(*train, fit_count, options.seed);
  const SplitOutputs fit_outputs =
      RunSplit(ctx, fit_split, 0, nullptr, nullptr);
  const OodFeatureFit fit =
      FitOodFeatures(fit_outputs.features, fit_split.labels,
                     store.num_classes(), options.knn_k);
  ood.set_fit_images(fit_count);
  ood.set_knn_k(fit.knn_k);

  std::vector<Source> sources;
  const int64_t count =
      std::min(options.images, evaluated_split.labels.size(0));
  for (const OodTransform& t : OodTransforms(options.seed)) {
    Source s;
    s.info.set_name(t.name);
    s.info.set_description(t.description);
    s.info.set_images(count);
    s.outputs = RunSplit(ctx, evaluated_split, count, t.transform, nullptr);
    sources.push_back(std::move(s));
  }
  if (ood_store != nullptr) {
    ASSIGN_OR_RETURN(const data::SplitData* split,
                     ood_store->split(options.split));
    Source s;
    s.info.set_name(absl::StrCat(
        "store:", data::DatasetName_Name(ood_store->manifest().dataset()), "/",
        options.split));
    s.info.set_description(
        absl::StrCat(options.manifest_path, ", split ", options.split));
    s.outputs = RunSplit(ctx, *split, options.images, nullptr, nullptr);
    s.info.set_images(s.outputs.logits.size(0));
    sources.push_back(std::move(s));
  }
  for (const Source& s : sources) *ood.add_sources() = s.info;

  const auto in_scores = OodScores(evaluated, fit);
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> out_scores;
  for (const Source& s : sources)
    out_scores.push_back(OodScores(s.outputs, fit));
  std::vector<std::pair<std::string, torch::Tensor>> validation_scores;
  if (validation != nullptr) {
    validation_scores = OodScores(*validation, fit);
    ood.set_threshold_split(validation_split->name);
    ood.set_threshold_images(validation->logits.size(0));
  }

  for (size_t k = 0; k < in_scores.size(); ++k) {
    const std::string& name = in_scores[k].first;
    const std::vector<double> in = Values(in_scores[k].second);
    std::vector<std::vector<double>> outs;
    std::vector<double> all = in;
    for (const auto& per_source : out_scores) {
      outs.push_back(Values(per_source[k].second));
      all.insert(all.end(), outs.back().begin(), outs.back().end());
    }
    OodScore* score = ood.add_scores();
    score->set_score(name);
    std::optional<double> threshold;
    if (!validation_scores.empty()) {
      threshold =
          AcceptanceThreshold(Values(validation_scores[k].second), kAccepted);
      score->set_threshold(*threshold);
      score->set_evaluated_acceptance(ShareAtLeast(in, *threshold));
    }
    const double lower = Quantile(all, 0.005), upper = Quantile(all, 0.995);
    score->set_histogram_lower(lower);
    score->set_histogram_upper(upper);
    for (int64_t c : Histogram(in, lower, upper)) score->add_in_histogram(c);
    for (size_t s = 0; s < sources.size(); ++s) {
      OodResult* r = ood.add_results();
      r->set_score(name);
      r->set_source(sources[s].info.name());
      r->set_auroc(Auroc(in, outs[s]));
      r->set_aupr_in(AveragePrecision(in, outs[s]));
      std::vector<double> negated_in, negated_out;
      for (double v : in) negated_in.push_back(-v);
      for (double v : outs[s]) negated_out.push_back(-v);
      r->set_aupr_out(AveragePrecision(negated_out, negated_in));
      r->set_fpr_at_95_tpr(FprAt95Tpr(in, outs[s]));
      if (threshold)
        r->set_rejection_rate(1 - ShareAtLeast(outs[s], *threshold));
      const RocCurve roc = Roc(in, outs[s], kRocPoints);
      r->mutable_roc_fpr()->Add(roc.fpr.begin(), roc.fpr.end());
      r->mutable_roc_tpr()->Add(roc.tpr.begin(), roc.tpr.end());
      for (int64_t c : Histogram(outs[s], lower, upper)) {
        r->add_out_histogram(c);
      }
    }
  }
  LOG(INFO) << "out-of-distribution detection: " << in_scores.size()
            << " scores x " << sources.size() << " sources";
  return ood;
}

}  // namespace vit_moe::eval
