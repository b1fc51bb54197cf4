// //eval:predict - prints the top-k classes of each image file.
//
// One command line (see --help):
//   bazel run //eval:predict -- --model=run/best_model.pt
//     --normalization=store/normalization.pb --manifest=store/manifest.pb
//     sign1.ppm photo.jpg
#include <iomanip>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/dataset.pb.h"
#include "data/normalization.h"
#include "data/user_path.h"
#include "eval/predict.h"
#include "glog/logging.h"
#include "model/checkpoint.h"
#include "model/precision.h"
#include "model/vit_moe.h"

ABSL_FLAG(std::string, model, "",
          "Model file written by training (best_model.pt).");
ABSL_FLAG(std::string, normalization, "",
          "Normalization of the training split (normalization.pb).");
ABSL_FLAG(std::string, manifest, "",
          "DatasetManifest with the class names; without it classes print as "
          "numbers.");
ABSL_FLAG(int32_t, top_k, 5, "Classes to print per image.");
ABSL_FLAG(std::string, precision, "float32",
          vit_moe::model::kPrecisionFlagHelp);

namespace vit_moe::eval {
namespace {

absl::Status Run(const std::vector<std::string>& images) {
  const std::string model_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_model));
  const std::string norm_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  if (model_path.empty() || norm_path.empty() || images.empty()) {
    return absl::InvalidArgumentError(
        "--model, --normalization and at least one image are required");
  }
  if (absl::GetFlag(FLAGS_top_k) < 1) {
    return absl::InvalidArgumentError("--top_k must be at least 1");
  }
  ASSIGN_OR_RETURN(
      model::PrecisionChoice precision,
      model::PrecisionFromFlag(absl::GetFlag(FLAGS_precision), torch::kCPU));
  if (!precision.fallback_reason.empty()) {
    LOG(WARNING) << precision.fallback_reason;
  }
  ASSIGN_OR_RETURN(model::ViTMoE net,
                   model::LoadModel(model_path, torch::kCPU));
  ASSIGN_OR_RETURN(data::Normalization norm,
                   data::ReadNormalization(norm_path));
  const model::ModelConfig& config = net->config();
  if (norm.mean_size() != config.in_channels()) {
    return absl::InvalidArgumentError(
        absl::StrCat(norm_path, ": ", norm.mean_size(), " channels but ",
                     model_path, " expects ", config.in_channels()));
  }
  std::vector<std::string> names;
  if (const std::string manifest_path =
          data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
      !manifest_path.empty()) {
    data::DatasetManifest manifest;
    RETURN_IF_ERROR(ReadBinaryProto(manifest_path, &manifest));
    if (manifest.class_names_size() != config.num_classes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          manifest_path, ": ", manifest.class_names_size(), " classes but ",
          model_path, " has ", config.num_classes()));
    }
    names.assign(manifest.class_names().begin(), manifest.class_names().end());
  }
  std::vector<torch::Tensor> batch;
  for (const std::string& path : images) {
    ASSIGN_OR_RETURN(
        torch::Tensor image,
        ReadImageForModel(path, config.image_size(), config.in_channels()));
    batch.push_back(image);
  }
  torch::NoGradGuard no_grad;
  net->eval();
  const torch::Tensor x = data::NormalizeImages(torch::stack(batch), norm);
  torch::Tensor logits;
  {
    model::AutocastScope autocast(precision.bf16, torch::kCPU);
    logits = net->forward(x).logits.to(torch::kFloat32);
  }
  const torch::Tensor probabilities = torch::softmax(logits, 1);
  const auto top = TopClasses(probabilities, names, absl::GetFlag(FLAGS_top_k));
  for (size_t i = 0; i < images.size(); ++i) {
    std::cout << images[i] << "\n";
    for (size_t j = 0; j < top[i].size(); ++j) {
      std::cout << "  " << j + 1 << ". " << std::left << std::setw(28)
                << top[i][j].name << std::right << std::fixed
                << std::setprecision(4) << top[i][j].probability << "\n";
    }
  }
  std::cout << std::flush;
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::eval

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Classifies image files (PPM, PNG, JPEG) with a trained model.\n"
      "usage: predict --model=M --normalization=N [--manifest=S] IMAGE...",
      [](const std::vector<std::string>& images) -> absl::StatusOr<int> {
        std::vector<std::string> paths;
        for (const std::string& image : images) {
          paths.push_back(vit_moe::data::ResolveUserPath(image));
        }
        RETURN_IF_ERROR(vit_moe::eval::Run(paths));
        return 0;
      });
}
