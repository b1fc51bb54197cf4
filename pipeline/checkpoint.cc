#include "pipeline/checkpoint.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/status_macros.h"

namespace vit_moe::pipeline {
namespace {

absl::StatusOr<torch::ScalarType> ScalarTypeFromName(const std::string& name) {
  for (torch::ScalarType type :
       {torch::kFloat32, torch::kFloat64, torch::kFloat16, torch::kBFloat16,
        torch::kInt64, torch::kInt32, torch::kInt16, torch::kInt8,
        torch::kUInt8, torch::kBool}) {
    if (name == c10::toString(type)) return type;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype ", name));
}

std::string BytesOf(const torch::Tensor& tensor) {
  torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
}

}  // namespace

NamedTensor ToRecord(const std::string& name, const torch::Tensor& tensor) {
  NamedTensor record;
  record.set_name(name);
  record.set_dtype(c10::toString(tensor.scalar_type()));
  for (int64_t size : tensor.sizes()) record.add_shape(size);
  record.set_data(BytesOf(tensor));
  return record;
}

absl::StatusOr<torch::Tensor> FromRecord(const NamedTensor& record) {
  absl::StatusOr<torch::ScalarType> type = ScalarTypeFromName(record.dtype());
  if (!type.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", record.name(), ": ", type.status().message()));
  }
  std::vector<int64_t> shape(record.shape().begin(), record.shape().end());
  torch::Tensor tensor = torch::empty(shape, torch::dtype(*type));
  if (tensor.nbytes() != record.data().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", record.name(), " holds ", record.data().size(),
                     " bytes, its shape needs ", tensor.nbytes()));
  }
  std::memcpy(tensor.data_ptr(), record.data().data(), tensor.nbytes());
  return tensor;
}

absl::StatusOr<NamedTensors> FromRecords(
    const google::protobuf::RepeatedPtrField<NamedTensor>& records) {
  NamedTensors tensors;
  for (const NamedTensor& record : records) {
    ASSIGN_OR_RETURN(torch::Tensor t, FromRecord(record));
    tensors.emplace_back(record.name(), t);
  }
  return tensors;
}

NamedTensors ModuleTensors(torch::nn::Module& module) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    tensors.emplace_back(item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    tensors.emplace_back(item.key(), item.value());
  }
  return tensors;
}

absl::Status RestoreModuleTensors(
    torch::nn::Module& module,
    const google::protobuf::RepeatedPtrField<NamedTensor>& records) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& record : records) by_name[record.name()] = &record;
  NamedTensors targets = ModuleTensors(module);
  if (targets.size() != by_name.size()) {
    for (const auto& [name, tensor] : targets) by_name.erase(name);
    std::string extra = by_name.empty() ? "" : by_name.begin()->first;
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint holds ", records.size(), " model tensors, the model has ",
        targets.size(), extra.empty() ? "" : "; unknown tensor: " + extra));
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint lacks model tensor ", name));
    }
    ASSIGN_OR_RETURN(torch::Tensor value, FromRecord(*it->second));
    if (value.scalar_type() != target.scalar_type() ||
        !value.sizes().equals(target.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model tensor ", name, " is ", c10::toString(value.scalar_type()),
          c10::str(value.sizes()), " in the checkpoint, ",
          c10::toString(target.scalar_type()), c10::str(target.sizes()),
          " in the model"));
    }
    target.copy_(value);
  }
  return absl::OkStatus();
}

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
                             const TrainingCheckpoint& checkpoint) {
  return WriteBinaryProto(path, checkpoint);
}

absl::StatusOr<TrainingCheckpoint> ReadCheckpoint(const std::string& path) {
  TrainingCheckpoint checkpoint;
  RETURN_IF_ERROR(ReadBinaryProto(path, &checkpoint));
  if (checkpoint.format_version() != kCheckpointFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint format_version ", checkpoint.format_version(),
        " is not the supported ", kCheckpointFormatVersion));
  }
  return checkpoint;
}

}  // namespace vit_moe::pipeline
