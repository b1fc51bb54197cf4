#include "model/checkpoint.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/tensor_record.h"

namespace vit_moe::model {
namespace {

std::string ContentSha256(const ModelFile& file) {
  Digester digest(DigestKind::kSha256);
  const std::string config = SerializeDeterministic(file.config());
  digest.Update(absl::StrCat(config.size(), ":"));
  digest.Update(config);
  DigestRecords(file.tensors(), &digest);
  return digest.FinishHex();
}

absl::StatusOr<ModelFile> ReadModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (absl::StartsWith(bytes, "VITMOE01")) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": a model file in the VITMOE01 layout of earlier versions, which "
        "stored no digest; this version reads model file format ",
        kModelFileFormatVersion, " only: train the model again"));
  }
  ModelFile file;
  RETURN_IF_ERROR(ParseBinaryProto(path, bytes, &file));
  if (file.format_version() != kModelFileFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a ViT-MoE model file (format_version ",
        file.format_version(), ", expected ", kModelFileFormatVersion, ")"));
  }
  const std::string actual = ContentSha256(file);
  if (actual != file.content_sha256()) {
    return absl::DataLossError(
        absl::StrCat(path, ": damaged model file: its content SHA-256 is ",
                     actual, ", the file records ", file.content_sha256()));
  }
  return file;
}

absl::Status RestoreInto(ViTMoE& model, const ModelFile& file,
                         const std::string& path) {
  absl::Status status = RestoreModuleTensors(*model, file.tensors());
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(path, ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveModel(const std::string& path, ViTMoE& model) {
  ModelFile file;
  file.set_format_version(kModelFileFormatVersion);
  *file.mutable_config() = model->config();
  AppendRecords(ModuleTensors(*model), file.mutable_tensors());
  file.set_content_sha256(ContentSha256(file));
  return WriteBinaryProto(path, file);
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& path) {
  ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  return file.config();
}

absl::StatusOr<ViTMoE> LoadModel(const std::string& path,
                                 torch::Device device) {
  ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  absl::Status valid = ValidateModelConfig(file.config());
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": stored config is invalid: ", valid.message()));
  }
  ViTMoE model(file.config());
  RETURN_IF_ERROR(RestoreInto(model, file, path));
  model->to(device);
  model->eval();
  return model;
}

absl::Status LoadWeightsInto(ViTMoE& model, const std::string& path,
                             const std::string& keep_prefix) {
  ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  if (!keep_prefix.empty()) {
    // The kept tensors are restored from the model itself, so the one
    // all-or-nothing check covers everything else.
    TensorRecords records;
    for (NamedTensor& record : *file.mutable_tensors()) {
      if (!absl::StartsWith(record.name(), keep_prefix)) {
        *records.Add() = std::move(record);
      }
    }
    NamedTensors own = ModuleTensors(*model);
    own.erase(std::remove_if(own.begin(), own.end(),
                             [&](const auto& named) {
                               return !absl::StartsWith(named.first,
                                                        keep_prefix);
                             }),
              own.end());
    AppendRecords(own, &records);
    *file.mutable_tensors() = std::move(records);
  }
  return RestoreInto(model, file, path);
}

}  // namespace vit_moe::model
