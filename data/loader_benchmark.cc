// Batch loader throughput (images/s) on a CIFAR-sized split held in memory:
// gathering alone, with the background thread, and with normalisation as
// the transform on that thread. Compare rows side by side; absolute numbers
// depend on the machine.
//   bazel run -c opt //data:loader_benchmark
#include <benchmark/benchmark.h>

#include "common/startup.h"
#include "data/loader.h"
#include "data/normalization.h"

namespace vit_moe::data {

const SplitData& CifarSizedSplit() {
  static const SplitData* split = [] {
    auto* s = new SplitData;
    s->name = "train";
    torch::manual_seed(0);
    s->images = torch::randint(0, 256, {45000, 32, 32, 3}, torch::kUInt8);
    s->labels = torch::randint(0, 10, {45000}, torch::kInt64);
    return s;
  }();
  return *split;
}

namespace {

Normalization CifarNormalization() {
  Normalization norm;
  for (double m : {0.4914, 0.4822, 0.4465}) norm.add_mean(m);
  for (double s : {0.247, 0.243, 0.261}) norm.add_std(s);
  return norm;
}

// Arguments: prefetch depth, whether to normalise on the loader's thread.
void BM_LoadEpoch(benchmark::State& state) {
  const SplitData& split = CifarSizedSplit();
  LoaderOptions options;
  options.batch_size = 128;
  options.prefetch_batches = static_cast<int>(state.range(0));
  std::function<Batch(Batch)> transform;
  if (state.range(1) != 0) {
    Normalization norm = CifarNormalization();
    transform = [norm](Batch batch) {
      batch.images = NormalizeImages(batch.images, norm);
      return batch;
    };
  }
  int64_t images = 0;
  int64_t epoch = 0;
  for (auto _ : state) {
    BatchLoader loader(split, options, epoch++, transform);
    while (auto batch = loader.Next()) {
      benchmark::DoNotOptimize(batch->images.data_ptr());
      images += batch->images.size(0);
    }
  }
  state.counters["images_per_second"] = benchmark::Counter(
      static_cast<double>(images), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoadEpoch)
    ->ArgNames({"prefetch", "normalize"})
    ->Args({0, 0})
    ->Args({2, 0})
    ->Args({0, 1})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace vit_moe::data

int main(int argc, char** argv) {
  vit_moe::ConfigureThreads(0);
  // Built (and its pages touched) before any timing starts.
  vit_moe::data::CifarSizedSplit();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
