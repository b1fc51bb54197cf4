// Speed of the sparse expert dispatch against the dense reference, and of a
// whole training step per preset. Run with
//   bazel run -c opt //model:moe_benchmark
// and read ratios of rows run side by side (absolute numbers depend on what
// else the machine is doing).
//
// MoE layer rows: forward + backward of one MoE layer at the seed shape
// (batch 128, 65 tokens, D 192, 7 experts, top-3), block and ffn experts,
// sparse and dense. Training-step rows: forward, backward and AdamW step of
// the whole model; items_per_second is images/s.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "common/startup.h"
#include "glog/logging.h"
#include "model/config.h"
#include "model/moe_layer.h"
#include "model/presets.h"
#include "model/vit_moe.h"

namespace vit_moe::model {
namespace {

void BM_MoeLayer(benchmark::State& state, ExpertKind kind, bool dense) {
  torch::manual_seed(0);
  ModelConfig config = SeedPreset();
  config.mutable_moe()->set_expert_kind(kind);
  MoeLayer layer(config);
  layer->train();
  const int64_t batch = 128, tokens = TokensPerImage(config);
  torch::Tensor x =
      torch::randn({batch, tokens, config.embed_dim()}).requires_grad_(true);
  auto step = [&] {
    MoeOutput out = dense ? layer->forward_dense(x) : layer->forward(x);
    torch::Tensor loss = out.delta.pow(2).mean() + out.aux_loss;
    layer->zero_grad();
    loss.backward();
    return loss.item<float>();
  };
  step();  // untimed: first touch of the allocator's memory
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * batch);
}

BENCHMARK_CAPTURE(BM_MoeLayer, block_sparse, BLOCK, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(3.0);
BENCHMARK_CAPTURE(BM_MoeLayer, block_dense, BLOCK, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(3.0);
BENCHMARK_CAPTURE(BM_MoeLayer, ffn_sparse, FFN, false)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(3.0);
BENCHMARK_CAPTURE(BM_MoeLayer, ffn_dense, FFN, true)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(3.0);

// state.range(0): batch size.
void BM_TrainStep(benchmark::State& state, const ModelConfig& preset,
                  int image_size, int channels) {
  torch::manual_seed(0);
  ModelConfig config = preset;
  config.set_image_size(image_size);
  config.set_in_channels(channels);
  config.set_num_classes(10);
  CHECK(ValidateModelConfig(config).ok());
  ViTMoE model(config);
  model->train();
  torch::optim::AdamW optimizer(
      model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.05));
  const int64_t batch = state.range(0);
  torch::Tensor images =
      torch::randn({batch, channels, image_size, image_size});
  torch::Tensor labels = torch::randint(0, 10, {batch}, torch::kLong);
  auto step = [&] {
    ModelOutput out = model->forward(images);
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(out.logits, labels) + out.aux_loss;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  step();  // untimed: allocator warm-up and AdamW state creation
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * batch);
}

BENCHMARK_CAPTURE(BM_TrainStep, seed_32x32x3, SeedPreset(), 32, 3)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(5.0);
BENCHMARK_CAPTURE(BM_TrainStep, default_28x28x1, DefaultPreset(), 28, 1)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(5.0);
BENCHMARK_CAPTURE(BM_TrainStep, default_32x32x3, DefaultPreset(), 32, 3)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->MinTime(5.0);

}  // namespace
}  // namespace vit_moe::model

// --threads=N (0 = all cores, the default). On a busy machine, --threads=1
// keeps the CPU-time column honest: no OpenMP thread spins waiting for a
// descheduled sibling.
int ThreadsFlag(int* argc, char** argv) {
  int threads = 0;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) {
      threads = std::stoi(arg.substr(10));
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  return threads;
}

int main(int argc, char** argv) {
  const int threads = vit_moe::ConfigureThreads(ThreadsFlag(&argc, argv));
  benchmark::AddCustomContext("torch_threads", std::to_string(threads));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
