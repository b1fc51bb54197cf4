// The resumable training checkpoint (checkpoint.proto): conversion between
// tensors and NamedTensor records, model and generator state capture and
// restore, and atomic file I/O. Restoring checks every name, dtype and
// shape, so a checkpoint from another model fails with the tensor named.
#ifndef VIT_MOE_PIPELINE_CHECKPOINT_H_
#define VIT_MOE_PIPELINE_CHECKPOINT_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/adamw.h"
#include "pipeline/checkpoint.pb.h"

namespace vit_moe::pipeline {

inline constexpr int kCheckpointFormatVersion = 1;

// Tensor -> record (copied to CPU, contiguous) and back (on CPU).
NamedTensor ToRecord(const std::string& name, const torch::Tensor& tensor);
absl::StatusOr<torch::Tensor> FromRecord(const NamedTensor& record);
// Every record of a repeated field, in order, as named tensors.
absl::StatusOr<NamedTensors> FromRecords(
    const google::protobuf::RepeatedPtrField<NamedTensor>& records);

// Parameters then buffers of `module`, by module path.
NamedTensors ModuleTensors(torch::nn::Module& module);
// Copies records into the module's tensors in place; every tensor of the
// module must be present with the same dtype and shape, and no extra ones.
absl::Status RestoreModuleTensors(
    torch::nn::Module& module,
    const google::protobuf::RepeatedPtrField<NamedTensor>& records);

// Default generator states of the CPU and (when in use) CUDA.
void CaptureGeneratorStates(const torch::Device& device,
                            TrainingCheckpoint* checkpoint);
absl::Status RestoreGeneratorStates(const torch::Device& device,
                                    const TrainingCheckpoint& checkpoint);

absl::Status WriteCheckpoint(const std::string& path,
                             const TrainingCheckpoint& checkpoint);
// Reads and checks the format version; errors name the path.
absl::StatusOr<TrainingCheckpoint> ReadCheckpoint(const std::string& path);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_CHECKPOINT_H_
