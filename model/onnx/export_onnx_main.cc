// Exports a trained ViT-MoE (a SaveModel file such as best_model.pt) to
// ONNX for deployment runtimes.
//
// One command line (see --help):
//   bazel run //model:export_onnx -- --model=best_model.pt --out=model.onnx
//       [--manifest=manifest.pb] [--normalization=normalization.pb]
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/dataset.pb.h"
#include "data/normalization.pb.h"
#include "data/user_path.h"
#include "model/checkpoint.h"
#include "model/onnx/vit_moe_export.h"

ABSL_FLAG(std::string, model, "",
          "Model file written by training (SaveModel format, e.g. "
          "best_model.pt).");
ABSL_FLAG(std::string, out, "", "ONNX file to write (atomically).");
ABSL_FLAG(std::string, manifest, "",
          "Optional dataset manifest (manifest.pb from //data:download): its "
          "class names go into the ONNX metadata.");
ABSL_FLAG(std::string, normalization, "",
          "Optional normalization.pb (from //data:normalize): its mean and "
          "std go into the ONNX metadata.");

namespace vit_moe::model::onnx_export {
namespace {

absl::Status Run() {
  const std::string model_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_model));
  const std::string out = data::ResolveUserPath(absl::GetFlag(FLAGS_out));
  if (model_path.empty() || out.empty()) {
    return absl::InvalidArgumentError("--model and --out are required");
  }
  RETURN_IF_ERROR(data::CheckOutputApartFromInputs(
      "out", out,
      {{"model", model_path},
       {"manifest", data::ResolveUserPath(absl::GetFlag(FLAGS_manifest))},
       {"normalization",
        data::ResolveUserPath(absl::GetFlag(FLAGS_normalization))}}));
  ASSIGN_OR_RETURN(ViTMoE model, LoadModel(model_path, torch::kCPU));
  const ModelConfig& config = model->config();
  ExportMetadata meta;
  if (const std::string path =
          data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
      !path.empty()) {
    data::DatasetManifest manifest;
    RETURN_IF_ERROR(ReadBinaryProto(path, &manifest));
    if (manifest.class_names_size() != config.num_classes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", manifest.class_names_size(), " class names, but ",
          model_path, " has ", config.num_classes(), " classes"));
    }
    meta.class_names.assign(manifest.class_names().begin(),
                            manifest.class_names().end());
  }
  if (const std::string path =
          data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
      !path.empty()) {
    meta.normalization.emplace();
    RETURN_IF_ERROR(ReadBinaryProto(path, &*meta.normalization));
    const data::Normalization& n = *meta.normalization;
    if (n.mean_size() != config.in_channels() ||
        n.std_size() != config.in_channels()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", n.mean_size(), " means and ", n.std_size(), " stds, but ",
          model_path, " takes ", config.in_channels(), " channel(s)"));
    }
  }
  std::cerr << absl::StrFormat("export_onnx: %s: preset \"%s\", %d classes\n",
                               model_path, config.preset(),
                               config.num_classes());
  RETURN_IF_ERROR(ExportOnnx(model, meta, out));
  ASSIGN_OR_RETURN(std::string sha256, Sha256OfFile(out));
  std::cout << absl::StrFormat("wrote %s (ONNX opset %d, checked; sha256 %s)\n",
                               out, kOpsetVersion, sha256);
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::model::onnx_export

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Exports a trained ViT-MoE model file to ONNX (opset 17, dynamic "
      "batch, routing in the graph).\nUsage: export_onnx --model=best_model.pt "
      "--out=model.onnx [--manifest=manifest.pb] "
      "[--normalization=normalization.pb]",
      vit_moe::model::onnx_export::Run);
}
