// A thin builder over onnx::GraphProto: adds nodes with fresh, readable
// output names, initializers from LibTorch tensors, and small constants.
//
// It knows nothing about the ViT-MoE; it only spares the exporter the
// protobuf boilerplate. Names are "<scope>/<Op>_<n>" so a graph viewer shows
// which layer a node belongs to (e.g. "blocks.3.moe/TopK_812").
#ifndef VIT_MOE_MODEL_ONNX_ONNX_GRAPH_H_
#define VIT_MOE_MODEL_ONNX_ONNX_GRAPH_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace vit_moe::model::onnx_export {

::onnx::AttributeProto IntAttribute(const std::string& name, int64_t value);
::onnx::AttributeProto IntsAttribute(const std::string& name,
                                     const std::vector<int64_t>& values);
::onnx::AttributeProto FloatAttribute(const std::string& name, float value);

// float32 or int64 CPU/any-device tensor -> TensorProto with raw
// little-endian data. CHECKs the dtype (a programmer error otherwise).
::onnx::TensorProto ToTensorProto(const std::string& name,
                                  const torch::Tensor& tensor);

class GraphBuilder {
 public:
  // `graph` must outlive the builder.
  explicit GraphBuilder(::onnx::GraphProto* graph) : graph_(graph) {}

  // Appends a node with `num_outputs` fresh outputs; returns their names.
  std::vector<std::string> AddNode(
      const std::string& op_type, const std::vector<std::string>& inputs,
      int num_outputs, const std::vector<::onnx::AttributeProto>& attributes);
  // The common single-output case.
  std::string Op(const std::string& op_type,
                 const std::vector<std::string>& inputs,
                 const std::vector<::onnx::AttributeProto>& attributes = {});

  // Adds `tensor` as an initializer named exactly `name` (the model's own
  // parameter name, so the file can be audited against the checkpoint).
  std::string AddInitializer(const std::string& name,
                             const torch::Tensor& tensor);
  // Unnamed constants, created once per distinct value.
  std::string Int64s(const std::vector<int64_t>& values);  // 1-D
  std::string Int64Scalar(int64_t value);                  // rank 0
  std::string FloatScalar(float value);                    // rank 0
  std::string DoubleScalar(double value);                  // rank 0
  // Any other constant; `key` must identify its value.
  std::string Constant(const std::string& key, const torch::Tensor& value);

  // Declares `value` a graph output named `name` ([batch, dims...] float32).
  void AddOutput(const std::string& value, const std::string& name,
                 const std::vector<int64_t>& dims);
  // Declares a float32 graph input [batch, dims...].
  void AddInput(const std::string& name, const std::vector<int64_t>& dims);

  // Prefix for the names of nodes added from now on ("" = none).
  void set_scope(const std::string& scope) { scope_ = scope; }

 private:
  ::onnx::GraphProto* graph_;
  std::string scope_;
  int64_t next_id_ = 0;
  std::vector<std::pair<std::string, std::string>> constants_;  // key, name
};

}  // namespace vit_moe::model::onnx_export

#endif  // VIT_MOE_MODEL_ONNX_ONNX_GRAPH_H_
