// ONNX export of a ViT-MoE classifier.
//
// The graph is built directly from the model's config and named tensors
// (LibTorch C++ has no ONNX exporter): opset 17, IR version 8, one input
// "images" [batch, C, H, W] float32 (normalised as in training, see the
// metadata) and one output "logits" [batch, C_classes], with a symbolic batch
// dimension. Every parameter becomes an initializer under its LibTorch name.
// The routing is in the graph: router logits, softmax, TopK, renormalised
// gates and, for capacity-limited models, the same slot dropping as LibTorch
// (see transformer_graph.h). Eval mode only: dropout, drop-path and router
// noise are training-time and are not exported.
//
// Before writing, the model is checked with onnx::checker and strict shape
// inference, whose result must agree with the declared output shape.
#ifndef VIT_MOE_MODEL_ONNX_VIT_MOE_EXPORT_H_
#define VIT_MOE_MODEL_ONNX_VIT_MOE_EXPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/normalization.pb.h"
#include "model/vit_moe.h"
#include "onnx/onnx_pb.h"

namespace vit_moe::model::onnx_export {

inline constexpr int kOpsetVersion = 17;
inline constexpr char kInputName[] = "images";
inline constexpr char kOutputName[] = "logits";

// What the exporter writes into the model's metadata_props besides the
// config and input shape.
struct ExportMetadata {
  // Class names indexed by label; empty = not written. Otherwise the count
  // must equal the model's num_classes.
  std::vector<std::string> class_names;
  // The normalisation the model was trained with, if known.
  std::optional<data::Normalization> normalization;
};

// Builds the ModelProto. InvalidArgument for metadata that does not fit the
// model (class count, normalisation channels).
absl::StatusOr<::onnx::ModelProto> BuildOnnxModel(
    ViTMoE& model, const ExportMetadata& metadata);

// onnx::checker::check_model plus strict shape inference; Internal naming
// the problem if either complains.
absl::Status CheckOnnxModel(const ::onnx::ModelProto& proto);

// BuildOnnxModel + CheckOnnxModel, then writes `path` atomically.
absl::Status ExportOnnx(ViTMoE& model, const ExportMetadata& metadata,
                        const std::string& path);

}  // namespace vit_moe::model::onnx_export

#endif  // VIT_MOE_MODEL_ONNX_VIT_MOE_EXPORT_H_
