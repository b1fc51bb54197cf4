// Data-parallel collectives over PyTorch's own distributed engine (c10d):
// a TCPStore rendezvous hosted by rank 0, then ProcessGroupGloo on CPU or
// ProcessGroupNCCL on CUDA. Every collective turns c10d's exceptions (peer
// gone, timeout) into a Status naming the rank and the timeout, so a broken
// job exits with a message instead of hanging.
//
// Not here: expert parallelism (all-to-all of token slots); see README.
#ifndef VIT_MOE_PIPELINE_DISTRIBUTED_COMMUNICATOR_H_
#define VIT_MOE_PIPELINE_DISTRIBUTED_COMMUNICATOR_H_

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/distributed/world.h"

namespace vit_moe::distributed {

// "auto" -> "nccl" for a CUDA device, "gloo" otherwise; "gloo" and "nccl"
// pass through when this build supports them.
absl::StatusOr<std::string> ResolveBackend(const std::string& requested,
                                           const torch::Device& device);

class Communicator {
 public:
  // A single process (world_size 1) gets a communicator whose collectives
  // return at once. Otherwise blocks until all ranks joined or `timeout`.
  static absl::StatusOr<std::unique_ptr<Communicator>> Connect(
      const WorldInfo& world, const std::string& backend,
      const torch::Device& device, std::chrono::milliseconds timeout);
  ~Communicator();

  const WorldInfo& world() const { return world_; }
  const std::string& backend() const { return backend_; }

  // Replaces each parameter's gradient by its mean over ranks (a rank
  // without one counts zero; with none on any rank it stays undefined,
  // as one process on the whole batch would leave it). Gradients
  // are flattened into buckets of about `kBucketBytes` per collective, as
  // DDP does, so a model with hundreds of tensors costs a few messages.
  absl::Status AverageGradients(const std::vector<torch::Tensor>& parameters);
  // Copies rank 0's values into `tensors` on every rank (in place).
  absl::Status Broadcast(const std::vector<torch::Tensor>& tensors);
  // In-place sum over ranks.
  absl::Status AllReduceSum(torch::Tensor& tensor);
  absl::Status Barrier();

  static constexpr int64_t kBucketBytes = 25 << 20;

 private:
  Communicator(WorldInfo world, std::string backend,
               std::chrono::milliseconds timeout)
      : world_(std::move(world)),
        backend_(std::move(backend)),
        timeout_(timeout) {}

  // Runs one collective and waits; exceptions become Unavailable.
  template <typename Launch>
  absl::Status Run(const char* what, Launch launch);

  WorldInfo world_;
  std::string backend_;
  std::chrono::milliseconds timeout_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

}  // namespace vit_moe::distributed

#endif  // VIT_MOE_PIPELINE_DISTRIBUTED_COMMUNICATOR_H_
