#include "model/onnx/vit_moe_export.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "model/config.h"
#include "model/onnx/onnx_graph.h"
#include "model/onnx/transformer_graph.h"
#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"

namespace vit_moe::model::onnx_export {

namespace {

// IR version 8 is the one that goes with opset 17.
constexpr int64_t kIrVersion = 8;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += absl::StrFormat("\\u%04x", ch);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

void AddMetadata(::onnx::ModelProto* proto, const std::string& key,
                 const std::string& value) {
  auto* entry = proto->add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

absl::Status AddAllMetadata(const ModelConfig& c, const ExportMetadata& meta,
                            ::onnx::ModelProto* proto) {
  std::string config_text;
  CHECK(google::protobuf::TextFormat::PrintToString(c, &config_text));
  AddMetadata(proto, "model_config", config_text);
  AddMetadata(proto, "input_shape",
              absl::StrFormat("batch,%d,%d,%d", c.in_channels(), c.image_size(),
                              c.image_size()));
  AddMetadata(proto, "num_classes", absl::StrCat(c.num_classes()));
  if (!meta.class_names.empty()) {
    if (static_cast<int>(meta.class_names.size()) != c.num_classes()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%d class names given for a model with %d classes",
                          meta.class_names.size(), c.num_classes()));
    }
    std::vector<std::string> quoted;
    for (const auto& name : meta.class_names)
      quoted.push_back(JsonString(name));
    AddMetadata(proto, "class_names",
                absl::StrCat("[", absl::StrJoin(quoted, ","), "]"));
  }
  if (meta.normalization.has_value()) {
    const data::Normalization& n = *meta.normalization;
    if (n.mean_size() != c.in_channels() || n.std_size() != c.in_channels()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "normalization has %d means and %d stds for a model with %d input "
          "channels",
          n.mean_size(), n.std_size(), c.in_channels()));
    }
    auto format = [](std::string* out, double v) {
      absl::StrAppendFormat(out, "%.9g", v);
    };
    AddMetadata(proto, "normalization_mean",
                absl::StrJoin(n.mean(), ",", format));
    AddMetadata(proto, "normalization_std",
                absl::StrJoin(n.std(), ",", format));
    AddMetadata(proto, "preprocessing",
                "images[b][c] = (pixel / 255 - normalization_mean[c]) / "
                "normalization_std[c], NCHW float32");
  }
  return absl::OkStatus();
}

// images [B, C, H, W] -> tokens [B, N, D] with position embedding.
std::string Tokens(ModelGraph& m, const ModelConfig& c) {
  GraphBuilder& g = m.g();
  std::string x = kInputName;
  for (int i = 0; i < c.conv_stem_layers(); ++i) {
    g.set_scope(absl::StrCat("stem.", i));
    x = g.Op("Conv", {x, m.Param(absl::StrCat("stem.", i, ".weight"))},
             {IntsAttribute("kernel_shape", {3, 3}),
              IntsAttribute("pads", {1, 1, 1, 1})});
    x = g.Op("MaxPool", {g.Op("Relu", {x})},
             {IntsAttribute("kernel_shape", {3, 3}),
              IntsAttribute("strides", {2, 2}),
              IntsAttribute("pads", {1, 1, 1, 1})});
  }
  g.set_scope("patch_embed");
  const int64_t p = c.patch_size(), dim = c.embed_dim();
  x = g.Op("Conv",
           {x, m.Param("patch_embed.weight"), m.Param("patch_embed.bias")},
           {IntsAttribute("kernel_shape", {p, p}),
            IntsAttribute("strides", {p, p})});  // [B, D, G, G]
  x = g.Op("Transpose", {g.Op("Reshape", {x, g.Int64s({0, dim, -1})})},
           {IntsAttribute("perm", {0, 2, 1})});  // [B, G*G, D]
  if (c.pooling() == CLASS_TOKEN) {
    g.set_scope("cls_token");
    std::string batch = g.Op("Shape", {kInputName}, {IntAttribute("end", 1)});
    std::string shape =
        g.Op("Concat", {batch, g.Int64s({1, dim})}, {IntAttribute("axis", 0)});
    std::string cls = g.Op("Expand", {m.Param("cls_token"), shape});
    x = g.Op("Concat", {cls, x}, {IntAttribute("axis", 1)});  // [B, N, D]
  }
  return g.Op("Add", {x, m.Param("pos_embed")});
}

// x [B, N, D] after the final norm -> [B, D].
std::string Pool(ModelGraph& m, const std::string& x, const ModelConfig& c) {
  GraphBuilder& g = m.g();
  g.set_scope("pool");
  if (c.pooling() == CLASS_TOKEN) {
    return g.Op("Gather", {x, g.Int64Scalar(0)}, {IntAttribute("axis", 1)});
  }
  std::string weights = g.Op("Softmax", {Linear(m, x, "seq_pool")},
                             {IntAttribute("axis", 1)});  // [B, N, 1]
  return g.Op("ReduceSum", {g.Op("Mul", {weights, x}), g.Int64s({1})},
              {IntAttribute("keepdims", 0)});
}

}  // namespace

absl::StatusOr<::onnx::ModelProto> BuildOnnxModel(
    ViTMoE& model, const ExportMetadata& metadata) {
  const ModelConfig& c = model->config();
  ::onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  proto.add_opset_import()->set_version(kOpsetVersion);
  proto.set_producer_name("vit_moe");
  proto.set_doc_string(absl::StrFormat(
      "ViT-MoE classifier (preset \"%s\"), exported by //model:export_onnx. "
      "Input %s: normalised images; output %s.",
      c.preset(), kInputName, kOutputName));
  RETURN_IF_ERROR(AddAllMetadata(c, metadata, &proto));

  ::onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("vit_moe");
  GraphBuilder g(graph);
  g.AddInput(kInputName, {c.in_channels(), c.image_size(), c.image_size()});
  ModelGraph m(&g, *model);

  std::string x = Tokens(m, c);
  for (int i = 0; i < c.depth(); ++i) {
    x = TransformerLayer(m, x, absl::StrCat("blocks.", i), c, IsMoeLayer(c, i));
  }
  g.set_scope("head");
  std::string logits = Linear(m, Pool(m, LayerNorm(m, x, "norm"), c), "head");
  g.AddOutput(logits, kOutputName, {c.num_classes()});

  const std::vector<std::string> unused = m.Unused();
  CHECK(unused.empty()) << "the exporter ignores model tensors: "
                        << absl::StrJoin(unused, ", ");
  return proto;
}

absl::Status CheckOnnxModel(const ::onnx::ModelProto& proto) {
  try {
    ::onnx::checker::check_model(proto);
    ::onnx::ModelProto inferred = proto;
    ::onnx::shape_inference::InferShapes(
        inferred, ::onnx::OpSchemaRegistry::Instance(),
        ::onnx::ShapeInferenceOptions(/*check_type_val=*/true,
                                      /*strict_mode_val=*/1));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(
        "the exported ONNX model fails the ONNX checker: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status ExportOnnx(ViTMoE& model, const ExportMetadata& metadata,
                        const std::string& path) {
  ASSIGN_OR_RETURN(::onnx::ModelProto proto, BuildOnnxModel(model, metadata));
  RETURN_IF_ERROR(CheckOnnxModel(proto));
  std::string bytes;
  if (!proto.SerializeToString(&bytes)) {
    return absl::InternalError(
        absl::StrCat("cannot serialise the ONNX model for ", path));
  }
  return WriteFileAtomically(path, bytes);
}

}  // namespace vit_moe::model::onnx_export
