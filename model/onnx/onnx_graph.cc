#include "model/onnx/onnx_graph.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace vit_moe::model::onnx_export {

::onnx::AttributeProto IntAttribute(const std::string& name, int64_t value) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

::onnx::AttributeProto IntsAttribute(const std::string& name,
                                     const std::vector<int64_t>& values) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
  return a;
}

::onnx::AttributeProto FloatAttribute(const std::string& name, float value) {
  ::onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::FLOAT);
  a.set_f(value);
  return a;
}

::onnx::TensorProto ToTensorProto(const std::string& name,
                                  const torch::Tensor& tensor) {
  ::onnx::TensorProto proto;
  proto.set_name(name);
  torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  switch (t.scalar_type()) {
    case torch::kFloat:
      proto.set_data_type(::onnx::TensorProto::FLOAT);
      break;
    case torch::kDouble:
      proto.set_data_type(::onnx::TensorProto::DOUBLE);
      break;
    case torch::kLong:
      proto.set_data_type(::onnx::TensorProto::INT64);
      break;
    default:
      LOG(FATAL) << "no ONNX export for dtype " << t.scalar_type() << " of "
                 << name;
  }
  for (int64_t d : t.sizes()) proto.add_dims(d);
  // x86-64 and aarch64 are little-endian, as raw_data requires.
  proto.set_raw_data(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return proto;
}

std::vector<std::string> GraphBuilder::AddNode(
    const std::string& op_type, const std::vector<std::string>& inputs,
    int num_outputs, const std::vector<::onnx::AttributeProto>& attributes) {
  ::onnx::NodeProto* node = graph_->add_node();
  const std::string name = absl::StrCat(scope_.empty() ? "" : scope_ + "/",
                                        op_type, "_", next_id_++);
  node->set_name(name);
  node->set_op_type(op_type);
  for (const std::string& input : inputs) node->add_input(input);
  std::vector<std::string> outputs;
  for (int i = 0; i < num_outputs; ++i) {
    outputs.push_back(num_outputs == 1 ? name : absl::StrCat(name, ":", i));
    node->add_output(outputs.back());
  }
  for (const auto& attribute : attributes) *node->add_attribute() = attribute;
  return outputs;
}

std::string GraphBuilder::Op(
    const std::string& op_type, const std::vector<std::string>& inputs,
    const std::vector<::onnx::AttributeProto>& attributes) {
  return AddNode(op_type, inputs, 1, attributes)[0];
}

namespace {

// A float32 tensor type whose first dimension is the symbolic "batch".
void SetBatchedType(::onnx::ValueInfoProto* value, const std::string& name,
                    const std::vector<int64_t>& dims) {
  value->set_name(name);
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

void GraphBuilder::AddInput(const std::string& name,
                            const std::vector<int64_t>& dims) {
  SetBatchedType(graph_->add_input(), name, dims);
}

void GraphBuilder::AddOutput(const std::string& value, const std::string& name,
                             const std::vector<int64_t>& dims) {
  ::onnx::NodeProto* node = graph_->add_node();
  node->set_name(absl::StrCat("output/", name));
  node->set_op_type("Identity");
  node->add_input(value);
  node->add_output(name);
  SetBatchedType(graph_->add_output(), name, dims);
}

std::string GraphBuilder::AddInitializer(const std::string& name,
                                         const torch::Tensor& tensor) {
  *graph_->add_initializer() = ToTensorProto(name, tensor);
  return name;
}

std::string GraphBuilder::Constant(const std::string& key,
                                   const torch::Tensor& value) {
  for (const auto& [k, name] : constants_) {
    if (k == key) return name;
  }
  const std::string name = absl::StrCat("const/", key);
  AddInitializer(name, value);
  constants_.emplace_back(key, name);
  return name;
}

std::string GraphBuilder::Int64s(const std::vector<int64_t>& values) {
  return Constant(absl::StrCat("i64[", absl::StrJoin(values, ","), "]"),
                  torch::tensor(values, torch::kLong));
}

std::string GraphBuilder::Int64Scalar(int64_t value) {
  return Constant(absl::StrCat("i64_", value),
                  torch::scalar_tensor(value, torch::kLong));
}

std::string GraphBuilder::FloatScalar(float value) {
  return Constant(absl::StrFormat("f32_%a", value),
                  torch::scalar_tensor(value, torch::kFloat));
}

std::string GraphBuilder::DoubleScalar(double value) {
  return Constant(absl::StrFormat("f64_%a", value),
                  torch::scalar_tensor(value, torch::kDouble));
}

}  // namespace vit_moe::model::onnx_export
