#include "pipeline/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "model/tensor_record.h"

namespace vit_moe::pipeline {
namespace {

std::string BytesOf(const torch::Tensor& tensor) {
  torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
}

std::string TensorsSha256(const TrainingCheckpoint& checkpoint) {
  Digester digest(DigestKind::kSha256);
  for (const auto* records :
       {&checkpoint.model(), &checkpoint.optimizer(), &checkpoint.ema()}) {
    digest.Update(absl::StrCat(records->size(), ":"));
    model::DigestRecords(*records, &digest);
  }
  return digest.FinishHex();
}

}  // namespace

void CaptureGeneratorStates(const torch::Device& device,
                            TrainingCheckpoint* checkpoint) {
  auto& context = at::globalContext();
  checkpoint->set_cpu_rng_state(
      BytesOf(context.defaultGenerator(torch::kCPU).get_state()));
  if (device.is_cuda()) {
    checkpoint->set_cuda_rng_state(
        BytesOf(context.defaultGenerator(device).get_state()));
  }
}

absl::Status RestoreGeneratorStates(const torch::Device& device,
                                    const TrainingCheckpoint& checkpoint) {
  auto restore = [](at::Generator generator,
                    const std::string& bytes) -> absl::Status {
    torch::Tensor current = generator.get_state();
    if (static_cast<size_t>(current.nbytes()) != bytes.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("generator state holds ", bytes.size(),
                       " bytes, expected ", current.nbytes()));
    }
    torch::Tensor state = torch::empty_like(current);
    std::memcpy(state.data_ptr(), bytes.data(), bytes.size());
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
    return absl::OkStatus();
  };
  auto& context = at::globalContext();
  RETURN_IF_ERROR(restore(context.defaultGenerator(torch::kCPU),
                          checkpoint.cpu_rng_state()));
  if (device.is_cuda()) {
    if (checkpoint.cuda_rng_state().empty()) {
      return absl::InvalidArgumentError(
          "checkpoint has no CUDA generator state (written on CPU)");
    }
    RETURN_IF_ERROR(
        restore(context.defaultGenerator(device), checkpoint.cuda_rng_state()));
  }
  return absl::OkStatus();
}

absl::Status WriteCheckpoint(const std::string& path,
                             TrainingCheckpoint checkpoint) {
  checkpoint.set_format_version(kCheckpointFormatVersion);
  checkpoint.set_tensors_sha256(TensorsSha256(checkpoint));
  return WriteBinaryProto(path, checkpoint);
}

absl::StatusOr<TrainingCheckpoint> ReadCheckpoint(const std::string& path) {
  TrainingCheckpoint checkpoint;
  RETURN_IF_ERROR(ReadBinaryProto(path, &checkpoint));
  if (checkpoint.format_version() == 1) {
    LOG(WARNING) << path
                 << ": checkpoint format 1 stores no digest; its tensors are "
                    "read unverified";
    return checkpoint;
  }
  if (checkpoint.format_version() != kCheckpointFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint format_version ", checkpoint.format_version(),
        " is not a supported one (1 or ", kCheckpointFormatVersion, ")"));
  }
  const std::string actual = TensorsSha256(checkpoint);
  if (actual != checkpoint.tensors_sha256()) {
    return absl::DataLossError(absl::StrCat(
        path, ": damaged checkpoint: its tensors' SHA-256 is ", actual,
        ", the file records ", checkpoint.tensors_sha256()));
  }
  return checkpoint;
}

}  // namespace vit_moe::pipeline
