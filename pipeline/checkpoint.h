// The resumable training checkpoint (checkpoint.proto): generator state
// capture and restore, and atomic file I/O with a digest over its tensor
// records (model/tensor_record.h), set on write and checked on read.
#ifndef VIT_MOE_PIPELINE_CHECKPOINT_H_
#define VIT_MOE_PIPELINE_CHECKPOINT_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/checkpoint.pb.h"

namespace vit_moe::pipeline {

inline constexpr int kCheckpointFormatVersion = 2;

// Default generator states of the CPU and (when in use) CUDA.
void CaptureGeneratorStates(const torch::Device& device,
                            TrainingCheckpoint* checkpoint);
absl::Status RestoreGeneratorStates(const torch::Device& device,
                                    const TrainingCheckpoint& checkpoint);

// Sets the format version and the tensors' digest, then writes atomically.
absl::Status WriteCheckpoint(const std::string& path,
                             TrainingCheckpoint checkpoint);
// Reads and checks the format version and the tensors' digest; errors name
// the path.
absl::StatusOr<TrainingCheckpoint> ReadCheckpoint(const std::string& path);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_CHECKPOINT_H_
