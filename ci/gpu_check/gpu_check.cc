// GPU check of the model library, built by ci/gpu_check.sh with CMake where
// Bazel may be missing. On the GPU it checks that the sparse MoE dispatch
// equals the dense reference (forward and every gradient, both expert
// kinds), that CPU and GPU give the same logits for the same weights, and
// measures the seed preset's training throughput and peak memory. With
// --cpu_self_test the "device" is the CPU, so the script itself can be
// tested on machines without a GPU. Results go to --results as
// "key: value" lines.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/vit_moe.h"

#ifdef GPU_CHECK_CUDA_STATS
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

ABSL_FLAG(std::string, results, "", "File the results are written to.");
ABSL_FLAG(bool, cpu_self_test, false,
          "Run every check with the CPU standing in for the GPU.");
ABSL_FLAG(int, batch_size, 128, "Images per training step (seed: 128).");
ABSL_FLAG(int, train_steps, 30, "Timed training steps.");
ABSL_FLAG(int, warmup_steps, 5, "Untimed training steps before timing.");
ABSL_FLAG(int, speed_steps, 10,
          "Timed forward+backward steps each for sparse and dense MoE.");
ABSL_FLAG(uint64_t, seed, 0, "Seed of every random tensor and weight.");

namespace vit_moe {
namespace {

using model::ModelConfig;
using model::ViTMoE;
using Clock = std::chrono::steady_clock;

// Float32 tolerances. Sparse and dense run the same operations on
// differently shaped batches, so they differ by summation order only.
constexpr double kSparseDenseTolerance = 1e-4;
// CPU and GPU kernels differ in summation order and in transcendental
// functions; 18 M parameters over 9 layers stay well inside this.
constexpr double kCpuDeviceTolerance = 1e-3;

class Results {
 public:
  void Add(const std::string& key, const std::string& value) {
    std::cout << key << ": " << value << std::endl;
    absl::StrAppend(&text_, key, ": ", value, "\n");
  }
  void Add(const std::string& key, double value) {
    Add(key, absl::StrFormat("%.6g", value));
  }
  // Records a pass/fail line and remembers failures for the exit status.
  void Check(const std::string& key, bool ok, const std::string& detail) {
    Add(key, absl::StrCat(ok ? "PASS" : "FAIL", " (", detail, ")"));
    if (!ok) ++failures_;
  }
  int failures() const { return failures_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  int failures_ = 0;
};

absl::StatusOr<ModelConfig> SeedConfig(model::ExpertKind kind, int depth,
                                       bool regularised) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_num_classes(43);  // GTSRB
  config.mutable_moe()->set_expert_kind(kind);
  if (depth > 0) config.set_depth(depth);
  if (!regularised) {
    // The equality checks need both paths to see the same randomness: none.
    config.set_dropout(0.0);
    config.set_attention_dropout(0.0);
    config.set_drop_path(0.0);
    config.mutable_moe()->set_router_noise(0.0);
  }
  return model::ResolveModelConfig(config);
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double MaxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble))
      .abs()
      .max()
      .item<double>();
}

struct ForwardBackward {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> grads;
};

ForwardBackward RunForwardBackward(ViTMoE& net, const torch::Tensor& images,
                                   bool dense) {
  net->set_dense_reference(dense);
  net->zero_grad();
  model::ModelOutput out = net->forward(images);
  (out.logits.square().mean() + out.aux_loss).backward();
  ForwardBackward result{out.logits.detach(), {}};
  for (const auto& item : net->named_parameters()) {
    const torch::Tensor& g = item.value().grad();
    result.grads[item.key()] =
        g.defined() ? g.clone() : torch::zeros_like(item.value());
  }
  net->set_dense_reference(false);
  return result;
}

// Sparse dispatch vs every-expert reference on `device`, one expert kind.
absl::Status CheckSparseDense(model::ExpertKind kind,
                              const torch::Device& device, Results& results) {
  const std::string name = kind == model::BLOCK ? "block" : "ffn";
  ASSIGN_OR_RETURN(ModelConfig config, SeedConfig(kind, 3, false));
  torch::manual_seed(absl::GetFlag(FLAGS_seed));
  ViTMoE net(config);
  net->to(device);
  torch::Tensor images = torch::randn({8, 3, 32, 32}).to(device);
  ForwardBackward sparse = RunForwardBackward(net, images, false);
  ForwardBackward dense = RunForwardBackward(net, images, true);
  const double logits_diff = MaxAbsDifference(sparse.logits, dense.logits);
  double grad_diff = 0.0;
  std::string worst;
  for (const auto& [key, grad] : sparse.grads) {
    const double diff = MaxAbsDifference(grad, dense.grads.at(key));
    if (diff >= grad_diff) {
      grad_diff = diff;
      worst = key;
    }
  }
  results.Check(
      absl::StrCat("sparse_vs_dense_", name),
      logits_diff < kSparseDenseTolerance && grad_diff < kSparseDenseTolerance,
      absl::StrFormat("max |logits diff| %.3g, max |grad diff| %.3g at %s, "
                      "tolerance %g",
                      logits_diff, grad_diff, worst, kSparseDenseTolerance));
  return absl::OkStatus();
}

// The same weights on the CPU and on `device`, evaluation mode.
absl::Status CheckCpuVsDevice(const torch::Device& device, Results& results) {
  ASSIGN_OR_RETURN(ModelConfig config, SeedConfig(model::BLOCK, 0, true));
  torch::manual_seed(absl::GetFlag(FLAGS_seed));
  ViTMoE net(config);
  net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor images = torch::randn({16, 3, 32, 32});
  torch::Tensor cpu_logits = net->forward(images).logits;
  net->to(device);
  torch::Tensor device_logits = net->forward(images.to(device)).logits;
  const double diff = MaxAbsDifference(cpu_logits, device_logits);
  results.Check("cpu_vs_device_forward", diff < kCpuDeviceTolerance,
                absl::StrFormat("seed preset, max |logits diff| %.3g, "
                                "tolerance %g",
                                diff, kCpuDeviceTolerance));
  return absl::OkStatus();
}

// Seconds per forward+backward of the seed preset, sparse or dense.
double TimeForwardBackward(ViTMoE& net, const torch::Tensor& images, bool dense,
                           int steps) {
  const torch::Device device = images.device();
  RunForwardBackward(net, images, dense);  // warm-up: allocator, kernels
  Synchronize(device);
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) RunForwardBackward(net, images, dense);
  Synchronize(device);
  return std::chrono::duration<double>(Clock::now() - start).count() / steps;
}

bool Bf16Supported(const torch::Device& device) {
#ifdef GPU_CHECK_CUDA_STATS
  if (device.is_cuda()) {
    return at::cuda::getDeviceProperties(device.index())->major >= 8;
  }
#endif
  return false;
}

// Training of the seed preset on random GTSRB-shaped batches: images/s and
// peak memory. Host batches are pinned so copies overlap with compute.
absl::Status CheckTraining(const torch::Device& device, Results& results) {
  const int batch = absl::GetFlag(FLAGS_batch_size);
  const int steps = absl::GetFlag(FLAGS_train_steps);
  const int warmup = absl::GetFlag(FLAGS_warmup_steps);
  ASSIGN_OR_RETURN(ModelConfig config, SeedConfig(model::BLOCK, 0, true));
  torch::manual_seed(absl::GetFlag(FLAGS_seed));
  ViTMoE net(config);
  net->to(device);
  net->train();

  const int speed_steps = absl::GetFlag(FLAGS_speed_steps);
  {
    torch::Tensor images = torch::randn({batch, 3, 32, 32}).to(device);
    const double sparse = TimeForwardBackward(net, images, false, speed_steps);
    const double dense = TimeForwardBackward(net, images, true, speed_steps);
    results.Add("moe_sparse_step_ms", sparse * 1e3);
    results.Add("moe_dense_step_ms", dense * 1e3);
    results.Add("moe_dense_over_sparse_time", dense / sparse);
  }

  torch::optim::AdamW optimizer(
      {torch::optim::OptimizerParamGroup(net->decay_parameters()),
       torch::optim::OptimizerParamGroup(
           net->no_decay_parameters(),
           std::make_unique<torch::optim::AdamWOptions>(
               torch::optim::AdamWOptions(1e-3).weight_decay(0.0)))},
      torch::optim::AdamWOptions(1e-3).weight_decay(0.05));

  const bool bf16 = Bf16Supported(device);
  const bool pinned = device.is_cuda();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> host_batches;
  for (int i = 0; i < 4; ++i) {
    auto options = torch::TensorOptions().pinned_memory(pinned);
    torch::Tensor images =
        torch::randint(0, 256, {batch, 3, 32, 32}, options.dtype(torch::kByte));
    torch::Tensor labels =
        torch::randint(0, 43, {batch}, options.dtype(torch::kLong));
    host_batches.emplace_back(images, labels);
  }

#ifdef GPU_CHECK_CUDA_STATS
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
  }
#endif
  auto train_step = [&](int step) {
    const auto& [host_images, host_labels] =
        host_batches[step % host_batches.size()];
    torch::Tensor images = host_images.to(device, /*non_blocking=*/true)
                               .to(torch::kFloat)
                               .div_(255.0)
                               .sub_(0.5)
                               .div_(0.25);  // [B, 3, 32, 32]
    torch::Tensor labels = host_labels.to(device, /*non_blocking=*/true);
    if (bf16) {
      at::autocast::set_enabled(true);
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    }
    model::ModelOutput out = net->forward(images);
    torch::Tensor loss = torch::nn::functional::cross_entropy(
                             out.logits.to(torch::kFloat), labels) +
                         out.aux_loss.to(torch::kFloat);
    if (bf16) {
      at::autocast::set_enabled(false);
      at::autocast::clear_cache();
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    return loss;
  };
  for (int i = 0; i < warmup; ++i) train_step(i);
  Synchronize(device);
  const auto start = Clock::now();
  torch::Tensor loss;
  for (int i = 0; i < steps; ++i) loss = train_step(warmup + i);
  Synchronize(device);
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  const double last_loss = loss.item<double>();

  results.Add("train_precision", bf16 ? "bf16 autocast" : "float32");
  results.Add("train_batch_size", absl::StrCat(batch));
  results.Add("train_timed_steps", absl::StrCat(steps));
  results.Add("train_images_per_second", batch * steps / seconds);
  results.Check("train_loss_finite", std::isfinite(last_loss),
                absl::StrFormat("last loss %.4f", last_loss));
#ifdef GPU_CHECK_CUDA_STATS
  if (device.is_cuda()) {
    const auto stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    const size_t aggregate = static_cast<size_t>(
        c10::cuda::CUDACachingAllocator::StatType::AGGREGATE);
    results.Add("peak_allocated_mib",
                stats.allocated_bytes[aggregate].peak / 1048576.0);
    results.Add("peak_reserved_mib",
                stats.reserved_bytes[aggregate].peak / 1048576.0);
  }
#endif
  return absl::OkStatus();
}

absl::Status Run(Results& results) {
  const bool self_test = absl::GetFlag(FLAGS_cpu_self_test);
  if (absl::GetFlag(FLAGS_results).empty()) {
    return absl::InvalidArgumentError("--results: a file name is required");
  }
  if (absl::GetFlag(FLAGS_batch_size) < 1 ||
      absl::GetFlag(FLAGS_train_steps) < 1 ||
      absl::GetFlag(FLAGS_warmup_steps) < 0 ||
      absl::GetFlag(FLAGS_speed_steps) < 1) {
    return absl::InvalidArgumentError(
        "--batch_size, --train_steps and --speed_steps must be positive, "
        "--warmup_steps not negative");
  }
  const bool gpu = !self_test && torch::cuda::is_available();
  if (!self_test && !gpu) {
    return absl::FailedPreconditionError(
        "no CUDA device visible to LibTorch; pass --cpu_self_test to test "
        "this program on the CPU");
  }
  const torch::Device device =
      gpu ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  results.Add("mode", gpu ? "gpu" : "cpu self-test");
  results.Add("device", device.str());
#ifdef GPU_CHECK_CUDA_STATS
  if (gpu) {
    results.Add("device_name",
                at::cuda::getDeviceProperties(device.index())->name);
  }
#endif
  results.Add("libtorch_version", TORCH_VERSION);
  // Float32 checks compare float32 kernels: TF32 would round to 10 bits.
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  RETURN_IF_ERROR(CheckSparseDense(model::BLOCK, device, results));
  RETURN_IF_ERROR(CheckSparseDense(model::FFN, device, results));
  RETURN_IF_ERROR(CheckCpuVsDevice(device, results));
  RETURN_IF_ERROR(CheckTraining(device, results));
  results.Add("failed_checks", absl::StrCat(results.failures()));
  return WriteFileAtomically(absl::GetFlag(FLAGS_results), results.text());
}

}  // namespace
}  // namespace vit_moe

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "gpu_check --results=FILE [--cpu_self_test]: checks the ViT-MoE model "
      "on a GPU (see ci/gpu_check.sh)",
      [](const std::vector<std::string>& arguments) -> absl::StatusOr<int> {
        RETURN_IF_ERROR(vit_moe::RefuseArguments(arguments));
        vit_moe::Results results;
        RETURN_IF_ERROR(vit_moe::Run(results));
        return results.failures() == 0 ? 0 : vit_moe::kExitFailure;
      });
}
