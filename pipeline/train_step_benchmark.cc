// One full training step (forward, smoothed cross entropy + auxiliary loss,
// backward, gradient clipping, AdamW) of a ViT-MoE with sparse expert
// dispatch, side by side with the same model computing every expert densely
// and then weighting the chosen ones (what the seed did), in float32 and in
// bf16 autocast. Items are images; the models train with their presets'
// dropout, attention dropout and drop-path. The `fashion_mnist_cpu` rows
// train the model section of the shipped CPU recipe
// (configs/fashion_mnist_cpu.textproto), whose tokenizer and experts differ
// from the `default` preset's.
//
//   bazel run //pipeline:train_step_benchmark --
//   --benchmark_filter=seed/.*/batch:32
#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/precision.h"
#include "model/vit_moe.h"
#include "pipeline/adamw.h"
#include "pipeline/config.h"
#include "pipeline/loss.h"

namespace vit_moe::pipeline {
namespace {

constexpr char kCpuRecipe[] = "pipeline/configs/fashion_mnist_cpu.textproto";

struct StepCase {
  // A model preset, or "fashion_mnist_cpu" for kCpuRecipe's model section.
  std::string model;
  bool bf16;
  bool dense;
  int64_t batch_size;
};

// The model a case trains: `seed` on 32x32x3 images with 43 classes
// (GTSRB); `default` and the CPU recipe's model on Fashion-MNIST (28x28x1,
// 10 classes).
absl::StatusOr<model::ModelConfig> BenchmarkModel(const std::string& name) {
  model::ModelConfig request;
  if (name == "fashion_mnist_cpu") {
    ASSIGN_OR_RETURN(TrainConfig recipe, ReadTrainConfig(kCpuRecipe));
    request = recipe.model();
  } else {
    request.set_preset(name);
  }
  if (name != "seed") {
    request.set_image_size(28);
    request.set_in_channels(1);
    request.set_num_classes(10);
  }
  return model::ResolveModelConfig(request);
}

void TrainStep(benchmark::State& state, const StepCase& c) {
  absl::StatusOr<model::ModelConfig> config = BenchmarkModel(c.model);
  if (!config.ok()) {
    state.SkipWithError(std::string(config.status().message()).c_str());
    return;
  }
  const model::PrecisionChoice precision =
      model::ChoosePrecision(c.bf16, torch::kCPU);
  if (c.bf16 && !precision.bf16) {
    state.SkipWithError(precision.fallback_reason.c_str());
    return;
  }
  torch::manual_seed(0);
  model::ViTMoE model(*config);
  model->train();
  model->set_dense_reference(c.dense);
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
      torch::randn({c.batch_size, config->in_channels(), side, side});
  torch::Tensor targets =
      torch::one_hot(torch::randint(classes, {c.batch_size}, torch::kInt64),
                     classes)
          .to(torch::kFloat32);
  auto step = [&] {
    model::ModelOutput out;
    {
      model::AutocastScope autocast(precision.bf16, torch::kCPU);
      out = model->forward(images);
    }
    torch::Tensor loss =
        SmoothedSoftTargetCrossEntropy(out.logits, targets, 0.1) +
        out.aux_loss.to(torch::kFloat32);
    optimizer.ZeroGrad();
    loss.backward();
    ClipGradientNorm(parameters, 1.0);
    optimizer.Step(1e-4);
    return loss.item<float>();
  };
  // Untimed warm-up, as in a training run's steady state: the first steps
  // fault in every page the allocator will reuse afterwards (a third of a
  // cold seed step here) and create the optimizer state.
  for (int i = 0; i < 2; ++i) step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * c.batch_size);
  state.SetLabel(c.dense ? "dense reference" : "sparse dispatch");
}

// Rows "MODEL/PRECISION/DISPATCH/batch:N". The seed model at batch 32 for
// speed (the side-by-side with ../shared/bench/seed_reference.py) and at
// its own batch of 128 for memory (run under /usr/bin/time -v with
// --benchmark_filter=seed/float32/sparse/batch:128); `default` and the CPU
// recipe's model at that recipe's batch of 128 (the recipe in bf16, as it
// trains).
void RegisterTrainSteps() {
  std::vector<StepCase> cases;
  for (bool bf16 : {false, true}) {
    for (bool dense : {false, true}) {
      cases.push_back({"seed", bf16, dense, 32});
      cases.push_back({"default", bf16, dense, 128});
    }
  }
  cases.push_back({"seed", false, false, 128});
  cases.push_back({"fashion_mnist_cpu", true, false, 128});
  cases.push_back({"fashion_mnist_cpu", true, true, 128});
  for (const StepCase& c : cases) {
    const std::string name =
        absl::StrCat(c.model, "/", c.bf16 ? "bf16" : "float32", "/",
                     c.dense ? "dense" : "sparse", "/batch:", c.batch_size);
    benchmark::RegisterBenchmark(name.c_str(), TrainStep, c)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(c.model == "seed" ? 5.0 : 3.0);
  }
}

}  // namespace
}  // namespace vit_moe::pipeline

int main(int argc, char** argv) {
  vit_moe::ConfigureThreads(0);
  vit_moe::pipeline::RegisterTrainSteps();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
