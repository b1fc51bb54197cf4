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
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/artifact_fit.h"
#include "data/dataset.pb.h"
#include "data/normalization.h"
#include "data/store_inputs.h"
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
  const std::string manifest_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  const std::string norm_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  StageFiles inputs;
  inputs.AddInput("--model", model_path);
  data::AddStoreInputs("--manifest", manifest_path, &inputs);
  inputs.AddInput("--normalization", norm_path);
  RETURN_IF_ERROR(inputs.CheckOutput("--out", out));
  ASSIGN_OR_RETURN(ViTMoE model, LoadModel(model_path, torch::kCPU));
  const ModelConfig& config = model->config();
  const data::Artifact model_file{"--model", model_path};
  const data::Artifact manifest_file{"--manifest", manifest_path};
  const data::Artifact norm_file{"--normalization", norm_path};
  ExportMetadata meta;
  data::DatasetManifest manifest;
  if (!manifest_path.empty()) {
    RETURN_IF_ERROR(ReadBinaryProto(manifest_path, &manifest));
    RETURN_IF_ERROR(data::CheckModelFitsStore(
        config.image_size(), config.in_channels(), config.num_classes(),
        model_file, manifest, manifest_file));
    meta.class_names.assign(manifest.class_names().begin(),
                            manifest.class_names().end());
  }
  if (!norm_path.empty()) {
    ASSIGN_OR_RETURN(meta.normalization, data::ReadNormalization(norm_path));
    RETURN_IF_ERROR(data::CheckNormalizationChannels(
        *meta.normalization, norm_file, config.in_channels(), model_file));
    // The mean and std embedded must be those of the store the class
    // names come from.
    if (!manifest_path.empty()) {
      ASSIGN_OR_RETURN(const std::string manifest_sha256,
                       Sha256OfFile(manifest_path));
      RETURN_IF_ERROR(data::CheckNormalizationFitsStore(
          *meta.normalization, norm_file, manifest, manifest_sha256,
          manifest_file));
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
