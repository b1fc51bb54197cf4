// One full training step (forward, smoothed cross entropy + auxiliary loss,
// backward, gradient clipping, AdamW) of a ViT-MoE with sparse expert
// dispatch, side by side with the same model computing every expert densely
// and then weighting the chosen ones (what the seed did). Items are images.
//
//   bazel run -c opt //pipeline:train_step_benchmark
#include <benchmark/benchmark.h>

#include "common/startup.h"
#include "model/config.h"
#include "model/vit_moe.h"
#include "pipeline/adamw.h"
#include "pipeline/loss.h"

namespace vit_moe::pipeline {
namespace {

// state.range(0): 0 = sparse dispatch, 1 = dense reference;
// state.range(1): batch size.
void TrainStep(benchmark::State& state, const model::ModelConfig& request) {
  const int64_t batch_size = state.range(1);
  absl::StatusOr<model::ModelConfig> config =
      model::ResolveModelConfig(request);
  if (!config.ok()) {
    state.SkipWithError(std::string(config.status().message()).c_str());
    return;
  }
  torch::manual_seed(0);
  model::ViTMoE model(*config);
  model->train();
  model->set_dense_reference(state.range(0) == 1);
  OptimizerConfig optimizer_config;
  optimizer_config.set_beta1(0.9);
  optimizer_config.set_beta2(0.999);
  optimizer_config.set_epsilon(1e-8);
  NamedTensors named;
  std::vector<torch::Tensor> parameters;
  for (const auto& item : model->named_parameters()) {
    named.emplace_back(item.key(), item.value());
    parameters.push_back(item.value());
  }
  AdamW optimizer({{named, 0.05}}, optimizer_config);

  const int64_t side = config->image_size();
  const int64_t classes = config->num_classes();
  torch::Tensor images =
      torch::randn({batch_size, config->in_channels(), side, side});
  torch::Tensor targets =
      torch::one_hot(torch::randint(classes, {batch_size}, torch::kInt64),
                     classes)
          .to(torch::kFloat32);
  for (auto _ : state) {
    model::ModelOutput out = model->forward(images);
    torch::Tensor loss =
        SmoothedSoftTargetCrossEntropy(out.logits, targets, 0.1) + out.aux_loss;
    optimizer.ZeroGrad();
    loss.backward();
    ClipGradientNorm(parameters, 1.0);
    optimizer.Step(1e-4);
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  state.SetLabel(state.range(0) == 1 ? "dense reference" : "sparse dispatch");
}

// The seed model (32x32x3, 43 classes) at batch 32 for speed; batch 128,
// the seed's own, for its memory (run under /usr/bin/time -v with
// --benchmark_filter=BM_SeedPreset/0/128).
void BM_SeedPreset(benchmark::State& state) {
  model::ModelConfig request;
  request.set_preset("seed");
  TrainStep(state, request);
}
// The Fashion-MNIST CPU model: `default` on 28x28x1 images, 10 classes, at
// the shipped batch of 128.
void BM_DefaultPreset(benchmark::State& state) {
  model::ModelConfig request;
  request.set_preset("default");
  request.set_image_size(28);
  request.set_in_channels(1);
  request.set_num_classes(10);
  TrainStep(state, request);
}

BENCHMARK(BM_SeedPreset)
    ->Args({0, 32})
    ->Args({1, 32})
    ->Args({0, 128})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0);
BENCHMARK(BM_DefaultPreset)
    ->Args({0, 128})
    ->Args({1, 128})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  vit_moe::ConfigureThreads(0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
