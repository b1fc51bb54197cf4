// Batch-1 inference latency: our LibTorch path (sparse MoE dispatch) against
// onnxruntime (onnxruntime-node, CPU) on the exported ONNX model of the same
// weights, side by side in one run:
//   bazel run -c opt //model/onnx:latency_benchmark
// Both sides use the same threads (--threads=N, default all cores) and time
// each forward separately (LibTorch here, onnxruntime inside node around
// InferenceSession.run, so process start-up and model loading are excluded);
// rows report the mean per run and the counters p50_ms / p95_ms. Read the ratio
// of rows run together; absolute numbers depend on what else the machine is
// doing. Needs ci/setup.sh's Node.js + onnxruntime-node. Models are randomly
// initialised (latency does not depend on training).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "common/startup.h"
#include "glog/logging.h"
#include "model/config.h"
#include "model/onnx/onnxruntime_runner.h"
#include "model/onnx/vit_moe_export.h"
#include "model/presets.h"

namespace vit_moe::model::onnx_export {
namespace {

constexpr int kRuns = 50;

struct Case {
  ModelConfig config;
  ViTMoE model{nullptr};
  std::string onnx_path;
};

std::string WorkDir() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/vit_moe_latency_XXXXXX";
    CHECK(mkdtemp(pattern) != nullptr);
    return std::string(pattern);
  }();
  return dir;
}

// Built and exported once per preset, shared by both rows.
Case& GetCase(const std::string& preset) {
  static std::map<std::string, Case> cases;
  auto it = cases.find(preset);
  if (it != cases.end()) return it->second;
  Case c;
  c.config = preset == "seed" ? SeedPreset() : DefaultPreset();
  if (preset == "seed") {
    c.config.set_num_classes(43);
  } else {
    c.config.set_image_size(28);
    c.config.set_in_channels(1);
  }
  CHECK(ValidateModelConfig(c.config).ok());
  torch::manual_seed(0);
  c.model = ViTMoE(c.config);
  c.model->eval();
  c.onnx_path = WorkDir() + "/" + preset + ".onnx";
  absl::Status exported = ExportOnnx(c.model, {}, c.onnx_path);
  CHECK(exported.ok()) << exported;
  return cases.emplace(preset, std::move(c)).first->second;
}

torch::Tensor OneImage(const ModelConfig& c) {
  torch::manual_seed(1);
  return torch::randn({1, c.in_channels(), c.image_size(), c.image_size()});
}

void ReportPercentiles(benchmark::State& state, std::vector<double> seconds) {
  std::sort(seconds.begin(), seconds.end());
  auto at = [&](double q) {
    return 1e3 * seconds[static_cast<size_t>(q * (seconds.size() - 1))];
  };
  state.counters["p50_ms"] = at(0.5);
  state.counters["p95_ms"] = at(0.95);
}

void BM_LibTorchBatch1(benchmark::State& state, const std::string& preset) {
  Case& c = GetCase(preset);
  torch::Tensor image = OneImage(c.config);
  torch::NoGradGuard no_grad;
  c.model->forward(image);  // warm-up, as onnxruntime gets one
  std::vector<double> seconds;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    torch::Tensor logits = c.model->forward(image).logits;
    benchmark::DoNotOptimize(logits.data_ptr<float>()[0]);
    const std::chrono::duration<double> took =
        std::chrono::steady_clock::now() - start;
    seconds.push_back(took.count());
    state.SetIterationTime(took.count());
  }
  ReportPercentiles(state, seconds);
}

void BM_OnnxRuntimeBatch1(benchmark::State& state, const std::string& preset) {
  Case& c = GetCase(preset);
  absl::StatusOr<OnnxRuntime> ort =
      FindOnnxRuntime("model/onnx/run_onnxruntime.js");
  if (!ort.ok()) {
    state.SkipWithError(std::string(ort.status().message()).c_str());
    return;
  }
  absl::StatusOr<std::vector<double>> seconds =
      TimeOnnxRuntime(*ort, c.onnx_path, OneImage(c.config), kRuns,
                      torch::get_num_threads(), WorkDir());
  if (!seconds.ok()) {
    state.SkipWithError(std::string(seconds.status().message()).c_str());
    return;
  }
  size_t i = 0;
  for (auto _ : state) state.SetIterationTime((*seconds)[i++]);
  ReportPercentiles(state, *seconds);
}

BENCHMARK_CAPTURE(BM_LibTorchBatch1, seed, std::string("seed"))
    ->Iterations(kRuns)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OnnxRuntimeBatch1, seed, std::string("seed"))
    ->Iterations(kRuns)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LibTorchBatch1, default, std::string("default"))
    ->Iterations(kRuns)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OnnxRuntimeBatch1, default, std::string("default"))
    ->Iterations(kRuns)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vit_moe::model::onnx_export

// --threads=N (default 0 = all cores) for both runtimes; on a loaded
// machine 1 avoids measuring OpenMP threads waiting for each other.
int TakeThreadsFlag(int* argc, char** argv) {
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
  const int threads = vit_moe::ConfigureThreads(TakeThreadsFlag(&argc, argv));
  benchmark::AddCustomContext("threads (torch and onnxruntime)",
                              std::to_string(threads));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
