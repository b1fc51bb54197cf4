// //eval:predict - prints the top-k classes of each image file, with the
// temperature an evaluation fitted and, on request, abstention below a
// confidence.
//
// One command line (see --help):
//   bazel run //eval:predict -- --model=run/best_model.pt
//     --normalization=store/normalization.pb --manifest=store/manifest.pb
//     --report=run/evaluation/evaluation.pb --abstain_below=0.8
//     sign1.ppm photo.jpg folder_of_images/
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/artifact_fit.h"
#include "data/dataset.pb.h"
#include "data/normalization.h"
#include "data/user_path.h"
#include "eval/device_flag.h"
#include "eval/gate.h"
#include "eval/metrics.h"
#include "eval/predict.h"
#include "eval/predict_answer.h"
#include "eval/predict_sets.h"
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
ABSL_FLAG(std::string, report, "",
          "EvaluationReport of this model file (evaluation.pb; text format "
          "when the name does not end in .pb) written by //eval:evaluate: "
          "the logits are divided by its fitted temperature. Without it the "
          "temperature is 1.");
ABSL_FLAG(std::string, abstain_below, "",
          "Answer \"abstain\" for an image whose top-1 probability (after "
          "the temperature) is below this confidence, 0 < P < 1. Needs "
          "--report, and prints what P gave on the report's split.");
ABSL_FLAG(std::string, alpha, "",
          "Print each image's split-conformal prediction set at this alpha "
          "(0 < A < 1), one the report was evaluated at: it holds the true "
          "class with probability >= 1 - A. Needs --report.");
ABSL_FLAG(std::string, conformal_score, "raps",
          "Score of the --alpha sets: lac, aps or raps.");
ABSL_FLAG(std::string, max_risk, "",
          "Abstain below the confidence threshold chosen on the report's "
          "conformal calibration images so that the error rate among "
          "answered images is at most R with probability 1 - --delta "
          "(0 < R < 1). Needs --report; excludes --abstain_below.");
ABSL_FLAG(std::string, delta, "0.1",
          "--max_risk's allowed chance that the guarantee fails, 0 < D < 1.");
ABSL_FLAG(std::string, format, "text",
          "text, or json: one JSON object per image and line on stdout.");
ABSL_FLAG(std::string, roi, "",
          "x1,y1,x2,y2: crop every image to this region (pixels, corners "
          "inclusive, as in GTSRB's CSVs) before resizing.");
ABSL_FLAG(std::string, roi_csv, "",
          "GTSRB annotation CSV (Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;"
          "Roi.Y2[;ClassId]): crop each image to the region of the row with "
          "its file name; an image without a row is an error.");
ABSL_FLAG(std::string, device, "cpu", vit_moe::eval::kDeviceFlagHelp);
ABSL_FLAG(std::string, precision, "float32",
          vit_moe::model::kPrecisionFlagHelp);

namespace vit_moe::eval {
namespace {

// Images per forward pass: bounds the activations' memory for a folder of
// thousands of images (their decoded pixels are small).
constexpr int64_t kBatchSize = 256;

// What the answers are asked to guarantee: an abstention threshold given
// or to be chosen for a risk, prediction sets at an alpha.
struct Guarantees {
  std::optional<double> abstain_below;
  std::optional<double> max_risk;
  double delta = 0.1;
  std::optional<double> alpha;
  ConformalScore score = ConformalScore::kRaps;
};

// The temperature the answers use, the abstention threshold and set rule
// they apply, and the lines that say where each comes from.
struct Calibration {
  double temperature = 1;
  std::optional<double> abstain_below;
  std::optional<SetRule> sets;
  std::vector<std::string> notes;
};

absl::StatusOr<Calibration> ReadCalibration(const std::string& report_path,
                                            const std::string& model_path,
                                            const Guarantees& asked,
                                            const std::string& precision) {
  const std::optional<double> abstain_below = asked.abstain_below;
  Calibration result;
  if (report_path.empty()) {
    result.notes.push_back(
        "temperature 1: no --report, so the probabilities are the model's "
        "uncalibrated softmax");
    return result;
  }
  ASSIGN_OR_RETURN(const EvaluationReport report, ReadReport(report_path));
  ASSIGN_OR_RETURN(result.temperature,
                   ReportTemperature(report, report_path, model_path));
  result.notes.push_back(
      report.temperature_fit_images() > 0
          ? absl::StrCat("temperature ", result.temperature, " from ",
                         report_path, " (fitted by //eval:evaluate on ",
                         report.temperature_fit_images(), " held-out images)")
          : absl::StrCat("temperature 1 from ", report_path,
                         " (it was evaluated without a temperature split)"));
  if (abstain_below.has_value()) {
    ASSIGN_OR_RETURN(const Abstention abstention,
                     MeasureAbstention(report, report_path, *abstain_below));
    std::string note =
        DescribeAbstention(abstention, *abstain_below, report, report_path);
    if (!report.precision().empty() && report.precision() != precision) {
      absl::StrAppend(&note, " (measured in ", report.precision(),
                      "; this run computes in ", precision, ")");
    }
    result.notes.push_back(std::move(note));
  }
  result.abstain_below = abstain_below;
  if (asked.max_risk.has_value()) {
    ASSIGN_OR_RETURN(
        const RiskControlledAbstention choice,
        ReportRiskControl(report, report_path, *asked.max_risk, asked.delta));
    result.notes.push_back(DescribeRiskControl(
        choice, *asked.max_risk, asked.delta, report, report_path));
    // No certified threshold: every confidence is below infinity.
    result.abstain_below = choice.found
                               ? choice.threshold
                               : std::numeric_limits<double>::infinity();
  }
  if (asked.alpha.has_value()) {
    ASSIGN_OR_RETURN(result.sets, ReportSetRule(report, report_path,
                                                asked.score, *asked.alpha));
    result.notes.push_back(DescribeSetRule(*result.sets, report, report_path));
  }
  return result;
}

// The images as uint8 [N, C, side, side], each cropped to `roi`, or to its
// row of the CSV at `roi_csv_path` when that is not empty.
absl::StatusOr<torch::Tensor> ReadImages(const std::vector<std::string>& images,
                                         const model::ModelConfig& config,
                                         const std::optional<Roi>& roi,
                                         const std::string& roi_csv_path) {
  std::map<std::string, Roi> csv_rois;
  if (!roi_csv_path.empty()) {
    ASSIGN_OR_RETURN(csv_rois, ReadRoiCsv(roi_csv_path));
  }
  std::vector<torch::Tensor> pixels;
  for (const std::string& path : images) {
    std::optional<Roi> region = roi;
    if (!roi_csv_path.empty()) {
      ASSIGN_OR_RETURN(region, RoiOfImage(csv_rois, roi_csv_path, path));
    }
    ASSIGN_OR_RETURN(torch::Tensor image,
                     ReadImageForModel(path, config.image_size(),
                                       config.in_channels(), region));
    pixels.push_back(image);
  }
  return torch::stack(pixels);
}

absl::Status Run(const std::vector<std::string>& arguments) {
  const std::string model_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_model));
  const std::string norm_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  const std::string report_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_report));
  const std::string roi_csv_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_roi_csv));
  if (model_path.empty() || norm_path.empty() || arguments.empty()) {
    return absl::InvalidArgumentError(
        "--model, --normalization and at least one image or folder are "
        "required");
  }
  if (absl::GetFlag(FLAGS_top_k) < 1) {
    return absl::InvalidArgumentError("--top_k must be at least 1");
  }
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format=", format, ": expected text or json"));
  }
  std::optional<double> abstain_below;
  if (const std::string flag = absl::GetFlag(FLAGS_abstain_below);
      !flag.empty()) {
    ASSIGN_OR_RETURN(abstain_below, ParseAbstainBelow(flag));
    if (report_path.empty()) {
      return absl::InvalidArgumentError(
          "--abstain_below needs --report: the threshold applies to "
          "temperature-scaled confidences, and its coverage and risk come "
          "from the evaluated split");
    }
  }
  Guarantees asked;
  asked.abstain_below = abstain_below;
  if (const std::string flag = absl::GetFlag(FLAGS_max_risk); !flag.empty()) {
    ASSIGN_OR_RETURN(asked.max_risk, ParseOpenUnitFlag("max_risk", flag));
    ASSIGN_OR_RETURN(asked.delta,
                     ParseOpenUnitFlag("delta", absl::GetFlag(FLAGS_delta)));
    if (abstain_below.has_value()) {
      return absl::InvalidArgumentError(
          "--max_risk and --abstain_below exclude each other: a threshold "
          "chosen for a risk, or one given");
    }
  }
  if (const std::string flag = absl::GetFlag(FLAGS_alpha); !flag.empty()) {
    ASSIGN_OR_RETURN(asked.alpha, ParseOpenUnitFlag("alpha", flag));
    ASSIGN_OR_RETURN(asked.score,
                     ParseConformalScore(absl::GetFlag(FLAGS_conformal_score)));
  }
  if ((asked.max_risk.has_value() || asked.alpha.has_value()) &&
      report_path.empty()) {
    return absl::InvalidArgumentError(
        "--max_risk and --alpha need --report: their thresholds come from "
        "the evaluation's conformal calibration images");
  }
  std::optional<Roi> roi;
  if (const std::string flag = absl::GetFlag(FLAGS_roi); !flag.empty()) {
    if (!roi_csv_path.empty()) {
      return absl::InvalidArgumentError(
          "--roi and --roi_csv exclude each other: one region for every "
          "image, or one per image from the CSV");
    }
    ASSIGN_OR_RETURN(roi, ParseRoiFlag(flag));
  }
  ASSIGN_OR_RETURN(const torch::Device device,
                   ParseDeviceFlag(absl::GetFlag(FLAGS_device)));
  ASSIGN_OR_RETURN(
      model::PrecisionChoice precision,
      model::PrecisionFromFlag(absl::GetFlag(FLAGS_precision), device));
  if (!precision.fallback_reason.empty()) {
    LOG(WARNING) << precision.fallback_reason;
  }
  ASSIGN_OR_RETURN(model::ViTMoE net, model::LoadModel(model_path, device));
  ASSIGN_OR_RETURN(data::Normalization norm,
                   data::ReadNormalization(norm_path));
  const model::ModelConfig& config = net->config();
  const data::Artifact model_file{"--model", model_path};
  const data::Artifact norm_file{"--normalization", norm_path};
  RETURN_IF_ERROR(data::CheckNormalizationChannels(
      norm, norm_file, config.in_channels(), model_file));
  std::vector<std::string> names;
  if (const std::string manifest_path =
          data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
      !manifest_path.empty()) {
    data::DatasetManifest manifest;
    RETURN_IF_ERROR(ReadBinaryProto(manifest_path, &manifest));
    ASSIGN_OR_RETURN(const std::string manifest_sha256,
                     Sha256OfFile(manifest_path));
    const data::Artifact manifest_file{"--manifest", manifest_path};
    RETURN_IF_ERROR(data::CheckNormalizationFitsStore(
        norm, norm_file, manifest, manifest_sha256, manifest_file));
    RETURN_IF_ERROR(data::CheckModelFitsStore(
        config.image_size(), config.in_channels(), config.num_classes(),
        model_file, manifest, manifest_file));
    names.assign(manifest.class_names().begin(), manifest.class_names().end());
  }

  // Everything said about the answers, checked before any image is read.
  ASSIGN_OR_RETURN(
      const Calibration calibration,
      ReadCalibration(report_path, model_path, asked, precision.name));
  ASSIGN_OR_RETURN(const std::vector<std::string> images,
                   ListImageArguments(arguments));
  ASSIGN_OR_RETURN(const torch::Tensor pixels,
                   ReadImages(images, config, roi, roi_csv_path));

  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<Prediction> predictions;
  for (int64_t start = 0; start < pixels.size(0); start += kBatchSize) {
    const torch::Tensor batch = pixels.slice(0, start, start + kBatchSize);
    const torch::Tensor x = data::NormalizeImages(batch, norm).to(device);
    torch::Tensor logits;
    {
      model::AutocastScope autocast(precision.bf16, device);
      logits = net->forward(x).logits.to(torch::kFloat32);
    }
    const torch::Tensor probabilities =
        TemperatureSoftmax(logits, calibration.temperature);
    const auto top =
        TopClasses(probabilities, names, absl::GetFlag(FLAGS_top_k));
    for (size_t i = 0; i < top.size(); ++i) {
      predictions.push_back(MakePrediction(images[start + i], top[i],
                                           calibration.temperature,
                                           calibration.abstain_below));
    }
    if (calibration.sets.has_value()) {
      const auto sets = SetMembers(probabilities, *calibration.sets, names);
      for (size_t i = 0; i < sets.size(); ++i) {
        AddPredictionSet(sets[i], calibration.sets->result,
                         &predictions[start + i]);
      }
    }
  }
  // Rendered in full before printing, so a refusal prints no partial output.
  std::string out;
  for (const Prediction& prediction : predictions) {
    if (format == "json") {
      ASSIGN_OR_RETURN(const std::string line, PredictionJson(prediction));
      absl::StrAppend(&out, line, "\n");
    } else {
      absl::StrAppend(&out, PredictionText(prediction));
    }
  }
  for (const std::string& note : calibration.notes) std::cerr << note << "\n";
  std::cout << out << std::flush;
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::eval

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Classifies image files (PPM, PNG, JPEG), or every image file in a "
      "folder, with a trained model.\n"
      "usage: predict --model=M --normalization=N [--manifest=S] "
      "[--report=R [--abstain_below=P | --max_risk=R [--delta=D]] "
      "[--alpha=A [--conformal_score=S]]] IMAGE_OR_FOLDER...",
      [](const std::vector<std::string>& arguments) -> absl::StatusOr<int> {
        std::vector<std::string> paths;
        for (const std::string& argument : arguments) {
          paths.push_back(vit_moe::data::ResolveUserPath(argument));
        }
        RETURN_IF_ERROR(vit_moe::eval::Run(paths));
        return 0;
      });
}
