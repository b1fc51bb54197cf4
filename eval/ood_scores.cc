#include "eval/ood_scores.h"

#include <glog/logging.h>

#include <algorithm>

namespace vit_moe::eval {
namespace {

// Rows of the KNN similarity matrix computed at once: 1024 x M floats.
constexpr int64_t kKnnChunk = 1024;

torch::Tensor Unit(const torch::Tensor& features) {
  return torch::nn::functional::normalize(
      features.to(torch::kFloat32),
      torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

torch::Tensor MahalanobisScore(const torch::Tensor& features,
                               const OodFeatureFit& fit) {
  // (f - mu)^T P (f - mu) = f^T P f - 2 f^T P mu + mu^T P mu, for all classes
  // at once without an [N, C, D] difference tensor.
  const torch::Tensor f = features.to(torch::kFloat64);      // [N, D]
  const torch::Tensor fp = torch::matmul(f, fit.precision);  // [N, D]
  const torch::Tensor mp =
      torch::matmul(fit.class_means, fit.precision);  // [C', D]
  const torch::Tensor d =
      (fp * f).sum(1, /*keepdim=*/true) -
      2 * torch::matmul(fp, fit.class_means.t()) +
      (mp * fit.class_means).sum(1).unsqueeze(0);  // [N, C']
  return -std::get<0>(d.min(1));
}

torch::Tensor KnnScore(const torch::Tensor& features,
                       const OodFeatureFit& fit) {
  const torch::Tensor unit = Unit(features);  // [N, D]
  std::vector<torch::Tensor> kth;
  for (int64_t begin = 0; begin < unit.size(0); begin += kKnnChunk) {
    const torch::Tensor similarity =
        torch::matmul(unit.slice(0, begin, begin + kKnnChunk),
                      fit.train_normalised.t());  // [chunk, M]
    kth.push_back(
        std::get<0>(similarity.topk(fit.knn_k, 1)).select(1, fit.knn_k - 1));
  }
  // |a - b|^2 = 2 - 2 a.b for unit vectors.
  return -(2 - 2 * torch::cat(kth).to(torch::kFloat64)).clamp_min(0).sqrt();
}

}  // namespace

OodFeatureFit FitOodFeatures(const torch::Tensor& features,
                             const torch::Tensor& labels, int64_t num_classes,
                             int knn_k) {
  CHECK_GE(features.size(0), 1);
  CHECK_GE(knn_k, 1);
  const torch::Tensor f = features.to(torch::kFloat64);  // [M, D]
  std::vector<torch::Tensor> means;
  torch::Tensor centred = torch::empty_like(f);
  for (int64_t c = 0; c < num_classes; ++c) {
    const torch::Tensor rows = (labels == c).nonzero().squeeze(1);
    if (rows.numel() == 0) continue;
    const torch::Tensor mean = f.index_select(0, rows).mean(0);
    means.push_back(mean);
    centred.index_copy_(0, rows, f.index_select(0, rows) - mean);
  }
  OodFeatureFit fit;
  fit.class_means = torch::stack(means);
  const torch::Tensor covariance =
      torch::matmul(centred.t(), centred) / f.size(0);  // [D, D]
  // The pseudo-inverse: a feature direction without variance (a dead unit,
  // or fewer fit images than dimensions) is ignored rather than dividing by
  // zero.
  fit.precision = torch::linalg_pinv(covariance, /*rcond=*/1e-10,
                                     /*hermitian=*/true);
  fit.train_normalised = Unit(features);
  fit.knn_k = static_cast<int>(std::min<int64_t>(knn_k, features.size(0)));
  return fit;
}

std::vector<std::pair<std::string, torch::Tensor>> OodScores(
    const SplitOutputs& outputs, const OodFeatureFit& fit) {
  const torch::Tensor z = outputs.logits.to(torch::kFloat64);  // [N, C]
  std::vector<std::pair<std::string, torch::Tensor>> scores = {
      {"msp", std::get<0>(torch::softmax(z, 1).max(1))},
      {"max_logit", std::get<0>(z.max(1))},
      {"energy",
       kEnergyTemperature * torch::logsumexp(z / kEnergyTemperature, 1)},
      {"mahalanobis", MahalanobisScore(outputs.features, fit)},
      {"knn", KnnScore(outputs.features, fit)},
  };
  if (outputs.router_entropy.defined()) {
    scores.emplace_back("router_entropy",
                        -outputs.router_entropy.to(torch::kFloat64));
  }
  return scores;
}

}  // namespace vit_moe::eval
