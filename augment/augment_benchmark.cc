// Augmented images per second at 32x32 RGB with the seed policy, on one
// thread and on all cores. The lead compares items_per_second with the
// training step's images/s: the augmenter should be >= 20x faster so that
// it never holds training up.
//
//   bazel run -c opt //augment:augment_benchmark
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "augment/augmenter.h"
#include "augment/batch_transforms.h"
#include "common/startup.h"
#include "data/normalization.h"

namespace vit_moe::augment {
namespace {

constexpr int64_t kBatch = 128;

Augmenter SeedAugmenter() {
  AugmentConfig config;
  config.set_preset("seed");
  return *Augmenter::Create(config, data::CIFAR10);
}

// Arg 0: intra-op threads (0 = all cores).
void SetThreads(const benchmark::State& state) {
  ConfigureThreads(static_cast<int>(state.range(0)));
}

// The per-sample uint8 stage alone: RandAugment(2, 9), crop, flip, jitter,
// rotation.
void BM_AugmentImages(benchmark::State& state) {
  SetThreads(state);
  Augmenter augmenter = SeedAugmenter();
  torch::manual_seed(0);
  torch::Tensor images =
      torch::randint(0, 256, {kBatch, 3, 32, 32}, torch::kUInt8);
  torch::Tensor indices = torch::arange(kBatch, torch::kInt64);
  int64_t epoch = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        augmenter.AugmentImages(images, indices, 1, epoch++));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["threads"] = at::get_num_threads();
}

// Everything training runs per batch: the training transform (uint8 ops,
// normalisation, erasing), then CutMix.
void BM_SeedPolicyBatch(benchmark::State& state) {
  SetThreads(state);
  Augmenter augmenter = SeedAugmenter();
  torch::manual_seed(0);
  torch::Tensor images =
      torch::randint(0, 256, {kBatch, 3, 32, 32}, torch::kUInt8);
  torch::Tensor labels = torch::randint(0, 10, {kBatch}, torch::kInt64);
  torch::Tensor indices = torch::arange(kBatch, torch::kInt64);
  data::Normalization norm;  // CIFAR-10's conventional statistics
  for (double mean : {0.4914, 0.4822, 0.4465}) norm.add_mean(mean);
  for (double std : {0.247, 0.243, 0.261}) norm.add_std(std);
  int64_t epoch = 0;
  for (auto _ : state) {
    data::Batch batch;
    batch.images = images;
    batch.labels = labels;
    batch.indices = indices;
    batch = TrainingTransform(augmenter, norm, 1, epoch,
                              /*pin_memory=*/false)(std::move(batch));
    MixedBatch mixed =
        augmenter.MixBatch(batch.images, batch.labels, 10, 1, epoch, 0);
    benchmark::DoNotOptimize(mixed.images.data_ptr());
    ++epoch;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["threads"] = at::get_num_threads();
}

// The float stages alone, to see where a batch's time goes.
void BM_EraseImages(benchmark::State& state) {
  SetThreads(state);
  Augmenter augmenter = SeedAugmenter();
  torch::manual_seed(0);
  torch::Tensor normalized = torch::randn({kBatch, 3, 32, 32});
  torch::Tensor indices = torch::arange(kBatch, torch::kInt64);
  int64_t epoch = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        augmenter.EraseImages(normalized, indices, 1, epoch++));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_MixBatch(benchmark::State& state) {
  SetThreads(state);
  Augmenter augmenter = SeedAugmenter();
  torch::manual_seed(0);
  torch::Tensor normalized = torch::randn({kBatch, 3, 32, 32});
  torch::Tensor labels = torch::randint(0, 10, {kBatch}, torch::kInt64);
  int64_t batch_index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        augmenter.MixBatch(normalized, labels, 10, 1, 0, batch_index++));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_AugmentImages)->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(BM_SeedPolicyBatch)->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(BM_EraseImages)->Arg(1)->UseRealTime();
BENCHMARK(BM_MixBatch)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace vit_moe::augment

BENCHMARK_MAIN();
