#include "model/tensor_record.h"

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace vit_moe::model {
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

std::string ShapeString(const NamedTensor& record) {
  return absl::StrCat("[", absl::StrJoin(record.shape(), ", "), "]");
}

}  // namespace

NamedTensor ToRecord(const std::string& name, const torch::Tensor& tensor) {
  torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  NamedTensor record;
  record.set_name(name);
  record.set_dtype(c10::toString(cpu.scalar_type()));
  for (int64_t size : cpu.sizes()) record.add_shape(size);
  record.set_data(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
  return record;
}

absl::StatusOr<torch::Tensor> FromRecord(const NamedTensor& record) {
  absl::StatusOr<torch::ScalarType> type = ScalarTypeFromName(record.dtype());
  if (!type.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", record.name(), ": ", type.status().message()));
  }
  // The byte count its shape needs, computed without overflow, is checked
  // against the bytes present before anything is allocated, so a corrupt
  // shape cannot ask for terabytes.
  uint64_t needed = c10::elementSize(*type);
  for (int64_t size : record.shape()) {
    if (size < 0 ||
        __builtin_mul_overflow(needed, static_cast<uint64_t>(size), &needed)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", record.name(),
                                                     " has an invalid shape ",
                                                     ShapeString(record)));
    }
  }
  if (needed != record.data().size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", record.name(), " holds ", record.data().size(),
        " bytes, its shape ", ShapeString(record), " needs ", needed));
  }
  std::vector<int64_t> shape(record.shape().begin(), record.shape().end());
  torch::Tensor tensor = torch::empty(shape, torch::dtype(*type));
  std::memcpy(tensor.data_ptr(), record.data().data(), record.data().size());
  return tensor;
}

void AppendRecords(const NamedTensors& tensors, TensorRecords* records) {
  for (const auto& [name, tensor] : tensors) {
    *records->Add() = ToRecord(name, tensor);
  }
}

absl::StatusOr<NamedTensors> FromRecords(const TensorRecords& records) {
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

absl::Status RestoreModuleTensors(torch::nn::Module& module,
                                  const TensorRecords& records) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& record : records) {
    if (!by_name.emplace(record.name(), &record).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", record.name(), " is stored twice"));
    }
  }
  NamedTensors targets = ModuleTensors(module);
  std::vector<torch::Tensor> values;
  for (const auto& [name, target] : targets) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", name, " of the model is missing"));
    }
    ASSIGN_OR_RETURN(torch::Tensor value, FromRecord(*it->second));
    if (value.scalar_type() != target.scalar_type() ||
        !value.sizes().equals(target.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", name, " is ", c10::toString(value.scalar_type()), " ",
          c10::str(value.sizes()), " in the file, the model expects ",
          c10::toString(target.scalar_type()), " ", c10::str(target.sizes())));
    }
    values.push_back(value);
    by_name.erase(it);
  }
  if (!by_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", by_name.begin()->first, " is not part of the model"));
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < targets.size(); ++i) {
    targets[i].second.copy_(values[i]);
  }
  return absl::OkStatus();
}

void DigestRecords(const TensorRecords& records, Digester* digest) {
  // Lengths before contents, so no two different record lists feed the
  // same bytes.
  for (const NamedTensor& record : records) {
    digest->Update(absl::StrCat(record.name().size(), ":", record.name(), ":",
                                record.dtype(), ":", ShapeString(record), ":",
                                record.data().size(), ":"));
    digest->Update(record.data());
  }
}

}  // namespace vit_moe::model
