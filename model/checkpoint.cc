#include "model/checkpoint.h"

#include <cstring>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "model/config.h"

namespace vit_moe::model {
namespace {

constexpr absl::string_view kMagic = "VITMOE01";

struct NamedTensor {
  std::string name;
  torch::Tensor value;  // CPU
};

struct ParsedModel {
  ModelConfig config;
  std::vector<NamedTensor> tensors;
};

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Bounds-checked reading of the layout; errors name the source.
class Reader {
 public:
  Reader(absl::string_view bytes, const std::string& source)
      : bytes_(bytes), source_(source) {}

  template <typename T>
  absl::StatusOr<T> Get(absl::string_view what) {
    ASSIGN_OR_RETURN(absl::string_view raw, Bytes(sizeof(T), what));
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    return value;
  }

  absl::StatusOr<absl::string_view> Bytes(uint64_t size,
                                          absl::string_view what) {
    if (size > bytes_.size() - offset_) {
      return absl::DataLossError(
          absl::StrCat(source_, ": truncated model file (reading ", what,
                       " at byte ", offset_, ")"));
    }
    absl::string_view out = bytes_.substr(offset_, size);
    offset_ += size;
    return out;
  }

  bool AtEnd() const { return offset_ == bytes_.size(); }

 private:
  absl::string_view bytes_;
  const std::string& source_;
  size_t offset_ = 0;
};

std::vector<NamedTensor> ModelTensors(ViTMoE& model) {
  std::vector<NamedTensor> tensors;
  for (const auto& item : model->named_parameters()) {
    tensors.push_back({item.key(), item.value()});
  }
  for (const auto& item : model->named_buffers()) {
    tensors.push_back({item.key(), item.value()});
  }
  return tensors;
}

std::string ShapeString(torch::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<ParsedModel> Parse(absl::string_view bytes,
                                  const std::string& source) {
  Reader reader(bytes, source);
  ASSIGN_OR_RETURN(absl::string_view magic,
                   reader.Bytes(kMagic.size(), "magic"));
  if (magic != kMagic) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not a ViT-MoE model file (expected magic ", kMagic, ")"));
  }
  ParsedModel parsed;
  ASSIGN_OR_RETURN(uint64_t config_size, reader.Get<uint64_t>("config size"));
  ASSIGN_OR_RETURN(absl::string_view config_bytes,
                   reader.Bytes(config_size, "config"));
  if (!parsed.config.ParseFromArray(config_bytes.data(),
                                    static_cast<int>(config_bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat(source, ": the stored ModelConfig does not parse"));
  }
  ASSIGN_OR_RETURN(uint64_t count, reader.Get<uint64_t>("tensor count"));
  for (uint64_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(uint32_t name_size, reader.Get<uint32_t>("name size"));
    ASSIGN_OR_RETURN(absl::string_view name, reader.Bytes(name_size, "name"));
    ASSIGN_OR_RETURN(int8_t dtype, reader.Get<int8_t>("dtype"));
    ASSIGN_OR_RETURN(uint32_t rank, reader.Get<uint32_t>("rank"));
    if (rank > 8) {
      return absl::DataLossError(
          absl::StrCat(source, ": tensor ", name, " has rank ", rank));
    }
    std::vector<int64_t> shape;
    for (uint32_t r = 0; r < rank; ++r) {
      ASSIGN_OR_RETURN(int64_t dim, reader.Get<int64_t>("shape"));
      if (dim < 0) {
        return absl::DataLossError(
            absl::StrCat(source, ": tensor ", name, " has a negative size"));
      }
      shape.push_back(dim);
    }
    ASSIGN_OR_RETURN(uint64_t byte_count, reader.Get<uint64_t>("byte count"));
    ASSIGN_OR_RETURN(absl::string_view data,
                     reader.Bytes(byte_count, "tensor data"));
    const auto scalar_type = static_cast<c10::ScalarType>(dtype);
    if (dtype < 0 ||
        dtype >= static_cast<int8_t>(c10::ScalarType::NumOptions)) {
      return absl::DataLossError(absl::StrCat(source, ": tensor ", name,
                                              " has unknown dtype ", dtype));
    }
    torch::Tensor value = torch::empty(shape, torch::dtype(scalar_type));
    if (static_cast<uint64_t>(value.nbytes()) != byte_count) {
      return absl::DataLossError(
          absl::StrCat(source, ": tensor ", name, " holds ", byte_count,
                       " bytes, its shape needs ", value.nbytes()));
    }
    std::memcpy(value.data_ptr(), data.data(), byte_count);
    parsed.tensors.push_back({std::string(name), value});
  }
  if (!reader.AtEnd()) {
    return absl::DataLossError(
        absl::StrCat(source, ": trailing bytes after the last tensor"));
  }
  return parsed;
}

absl::Status CopyInto(ViTMoE& model, const ParsedModel& parsed,
                      const std::string& source) {
  std::map<std::string, torch::Tensor> stored;
  for (const NamedTensor& t : parsed.tensors) stored[t.name] = t.value;
  std::vector<NamedTensor> targets = ModelTensors(model);
  // Check everything before touching the model, so a failed load leaves it
  // as it was.
  for (const NamedTensor& target : targets) {
    auto it = stored.find(target.name);
    if (it == stored.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": tensor ", target.name, " of the model is missing"));
    }
    if (it->second.sizes() != target.value.sizes()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": tensor ", target.name, " has shape ",
                       ShapeString(it->second.sizes()), ", the model expects ",
                       ShapeString(target.value.sizes())));
    }
    if (it->second.scalar_type() != target.value.scalar_type()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": tensor ", target.name, " has dtype ",
          c10::toString(it->second.scalar_type()), ", the model expects ",
          c10::toString(target.value.scalar_type())));
    }
  }
  if (stored.size() != targets.size()) {
    std::map<std::string, bool> known;
    for (const NamedTensor& target : targets) known[target.name] = true;
    for (const NamedTensor& t : parsed.tensors) {
      if (!known.count(t.name)) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": tensor ", t.name, " is not part of the model"));
      }
    }
  }
  torch::NoGradGuard no_grad;
  for (NamedTensor& target : targets) target.value.copy_(stored[target.name]);
  return absl::OkStatus();
}

}  // namespace

std::string SerializeModel(ViTMoE& model) {
  std::string out(kMagic);
  const std::string config = SerializeDeterministic(model->config());
  Put<uint64_t>(&out, config.size());
  out += config;
  std::vector<NamedTensor> tensors = ModelTensors(model);
  Put<uint64_t>(&out, tensors.size());
  for (const NamedTensor& t : tensors) {
    torch::Tensor cpu = t.value.detach().to(torch::kCPU).contiguous();
    Put<uint32_t>(&out, t.name.size());
    out += t.name;
    Put<int8_t>(&out, static_cast<int8_t>(cpu.scalar_type()));
    Put<uint32_t>(&out, cpu.dim());
    for (int64_t dim : cpu.sizes()) Put<int64_t>(&out, dim);
    Put<uint64_t>(&out, cpu.nbytes());
    out.append(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes());
  }
  return out;
}

absl::Status SaveModel(const std::string& path, ViTMoE& model) {
  return WriteFileAtomically(path, SerializeModel(model));
}

absl::StatusOr<ModelConfig> ReadModelConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  ASSIGN_OR_RETURN(ParsedModel parsed, Parse(bytes, path));
  return parsed.config;
}

absl::StatusOr<ViTMoE> LoadModel(const std::string& path,
                                 torch::Device device) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  ASSIGN_OR_RETURN(ParsedModel parsed, Parse(bytes, path));
  absl::Status valid = ValidateModelConfig(parsed.config);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": stored config is invalid: ", valid.message()));
  }
  ViTMoE model(parsed.config);
  RETURN_IF_ERROR(CopyInto(model, parsed, path));
  model->to(device);
  model->eval();
  return model;
}

absl::Status LoadWeightsFromBytes(ViTMoE& model, absl::string_view bytes,
                                  const std::string& source) {
  ASSIGN_OR_RETURN(ParsedModel parsed, Parse(bytes, source));
  return CopyInto(model, parsed, source);
}

absl::Status LoadWeightsInto(ViTMoE& model, const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return LoadWeightsFromBytes(model, bytes, path);
}

}  // namespace vit_moe::model
