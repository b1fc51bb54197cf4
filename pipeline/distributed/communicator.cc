#include "pipeline/distributed/communicator.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef VIT_MOE_HAVE_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace vit_moe::distributed {
namespace {

std::string Seconds(std::chrono::milliseconds timeout) {
  return absl::StrCat(timeout.count() / 1000.0, " s");
}

}  // namespace

absl::StatusOr<std::string> ResolveBackend(const std::string& requested,
                                           const torch::Device& device) {
  std::string backend = requested;
  if (backend.empty() || backend == "auto") {
    backend = device.is_cuda() ? "nccl" : "gloo";
  }
  if (backend == "gloo") return backend;
  if (backend == "nccl") {
#ifdef VIT_MOE_HAVE_CUDA
    if (!device.is_cuda()) {
      return absl::InvalidArgumentError(
          "distributed backend nccl needs --device=cuda");
    }
    return backend;
#else
    return absl::FailedPreconditionError(
        "distributed backend nccl needs a CUDA build (--config=cuda)");
#endif
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "distributed backend \"", requested, "\": expected auto, gloo or nccl"));
}

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Connect(
    const WorldInfo& world, const std::string& backend,
    const torch::Device& device, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string resolved, ResolveBackend(backend, device));
  std::unique_ptr<Communicator> communicator(
      new Communicator(world, resolved, timeout));
  if (!world.is_distributed()) return communicator;

  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(world.master_port);
    options.isServer = world.is_primary();
    options.numWorkers = world.world_size;
    options.waitWorkers = true;
    options.timeout = timeout;
    communicator->store_ =
        c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", world.rank, ": rendezvous store at ", world.master_addr, ":",
        world.master_port, " not reached by all ", world.world_size,
        " ranks within the timeout of ", Seconds(timeout), ": ", error.what()));
  }

  try {
    if (resolved == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      communicator->group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(
          communicator->store_, world.rank, world.world_size, options);
    } else {
#ifdef VIT_MOE_HAVE_CUDA
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      communicator->group_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(
          communicator->store_, world.rank, world.world_size, options);
#endif
    }
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", world.rank, ": cannot form the ", resolved,
        " process group within ", Seconds(timeout), ": ", error.what()));
  }
  RETURN_IF_ERROR(communicator->Barrier());
  return communicator;
}

Communicator::~Communicator() = default;

template <typename Launch>
absl::Status Communicator::Run(const char* what, Launch launch) {
  if (group_ == nullptr) return absl::OkStatus();
  try {
    c10::intrusive_ptr<c10d::Work> work = launch();
    work->wait(timeout_);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", world_.rank, ": ", what, " failed (a peer exited, or sent ",
        "nothing within the timeout of ", Seconds(timeout_),
        "): ", error.what()));
  }
  return absl::OkStatus();
}

absl::Status Communicator::AverageGradients(
    const std::vector<torch::Tensor>& parameters) {
  if (group_ == nullptr || parameters.empty()) return absl::OkStatus();
  // A parameter unused this step (an expert no token chose) has no gradient
  // on this rank but may have one elsewhere. Where no rank has one it stays
  // without, as in one process, so AdamW skips it there too (a zero
  // gradient would still move it through weight decay and momentum).
  std::vector<float> has_grad_flags;
  for (const torch::Tensor& parameter : parameters) {
    has_grad_flags.push_back(parameter.grad().defined() ? 1.0f : 0.0f);
  }
  std::vector<torch::Tensor> has_grad = {
      torch::tensor(has_grad_flags).to(parameters[0].device())};  // [P]
  RETURN_IF_ERROR(Run("gradient presence all-reduce",
                      [&] { return group_->allreduce(has_grad); }));
  std::vector<float> ranks_with_grad(
      has_grad[0].cpu().data_ptr<float>(),
      has_grad[0].cpu().data_ptr<float>() + parameters.size());
  std::vector<torch::Tensor> grads;
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (ranks_with_grad[i] == 0) continue;
    torch::Tensor parameter = parameters[i];
    if (!parameter.grad().defined()) {
      parameter.mutable_grad() = torch::zeros_like(parameter);
    }
    grads.push_back(parameter.grad());
  }
  size_t begin = 0;
  while (begin < grads.size()) {
    size_t end = begin;
    int64_t bytes = 0;
    while (end < grads.size() &&
           (end == begin || bytes + grads[end].nbytes() <= kBucketBytes) &&
           grads[end].scalar_type() == grads[begin].scalar_type()) {
      bytes += grads[end].nbytes();
      ++end;
    }
    std::vector<torch::Tensor> flat_views;
    for (size_t i = begin; i < end; ++i) {
      flat_views.push_back(grads[i].reshape({-1}));
    }
    std::vector<torch::Tensor> bucket = {torch::cat(flat_views)};
    RETURN_IF_ERROR(
        Run("gradient all-reduce", [&] { return group_->allreduce(bucket); }));
    bucket[0].div_(world_.world_size);
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      int64_t count = grads[i].numel();
      grads[i].copy_(bucket[0].narrow(0, offset, count).view_as(grads[i]));
      offset += count;
    }
    begin = end;
  }
  return absl::OkStatus();
}

absl::Status Communicator::Broadcast(
    const std::vector<torch::Tensor>& tensors) {
  for (const torch::Tensor& tensor : tensors) {
    std::vector<torch::Tensor> one = {tensor};
    RETURN_IF_ERROR(Run("broadcast", [&] { return group_->broadcast(one); }));
  }
  return absl::OkStatus();
}

absl::Status Communicator::AllReduceSum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> one = {tensor};
  return Run("all-reduce", [&] { return group_->allreduce(one); });
}

absl::Status Communicator::Barrier() {
  return Run("barrier", [&] { return group_->barrier(); });
}

}  // namespace vit_moe::distributed
