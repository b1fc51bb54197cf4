// //eval:evaluate - evaluates a trained model on a split of a dataset store
// and writes evaluation.pb (binary EvaluationReport), report.md and figures/.
//
// One command line (see --help):
//   bazel run //eval:evaluate -- --model=run/best_model.pt
//     --manifest=store/manifest.pb --normalization=store/normalization.pb
//     --out_dir=run/evaluation
#include <iostream>
#include <limits>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/proto_io.h"
#include "common/run_folder.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/store_inputs.h"
#include "data/user_path.h"
#include "eval/device_flag.h"
#include "eval/evaluator.h"
#include "eval/gate_baseline.h"
#include "eval/report.h"
#include "glog/logging.h"
#include "model/precision.h"

ABSL_FLAG(std::string, model, "",
          "Model file written by training (best_model.pt).");
ABSL_FLAG(std::string, manifest, "",
          "DatasetManifest of the store (manifest.pb).");
ABSL_FLAG(std::string, normalization, "",
          "Normalization written by //data:normalize for that store.");
ABSL_FLAG(std::string, split, "test", "Split to evaluate.");
ABSL_FLAG(std::string, temperature_split, "validation",
          "Split the calibration temperature is fitted on; empty skips "
          "temperature scaling.");
ABSL_FLAG(std::string, out_dir, "",
          "Folder for evaluation.pb, report.md, figures/.");
ABSL_FLAG(int64_t, batch_size, 256, "Images per forward pass.");
ABSL_FLAG(int64_t, limit_images, 0,
          "Use only the first N images of the split and of the temperature "
          "split (0 = all); for quick runs.");
ABSL_FLAG(int64_t, corruption_images, 1000,
          "Images per corruption and severity: the first N of the split "
          "(0 skips the robustness suite; 50 runs of N images each).");
ABSL_FLAG(uint64_t, corruption_seed, 0, "Seed of the corruption suite.");
ABSL_FLAG(int32_t, latency_runs, 50,
          "Timed batch-1 forward passes (0 skips latency).");
ABSL_FLAG(std::string, conformal_alphas, "0.1,0.05,0.01",
          "Miscoverage levels of the split-conformal prediction sets, each "
          "in (0, 1), comma-separated; empty skips them.");
ABSL_FLAG(uint64_t, conformal_seed, 0,
          "Seed of the permutation that splits the evaluated split into "
          "conformal calibration and conformal test images.");
ABSL_FLAG(double, conformal_calibration_fraction, 0.5,
          "Share of the evaluated split that calibrates the conformal sets; "
          "the rest measures their coverage.");
ABSL_FLAG(int32_t, raps_k_reg, 5,
          "RAPS: classes ranked beyond this are penalised.");
ABSL_FLAG(double, raps_lambda, 0.01, "RAPS: penalty per rank beyond k_reg.");
ABSL_FLAG(uint64_t, bootstrap_seed, 0, "Seed of the ECE bootstrap.");
ABSL_FLAG(int32_t, bootstrap_resamples, 500,
          "Bootstrap resamples for the ECE's confidence interval.");
ABSL_FLAG(int64_t, ood_images, 2000,
          "Out-of-distribution images per source (noise, vflip, invert, "
          "--ood_manifest): the first N of the split, or N noise images; 0 "
          "skips OOD detection.");
ABSL_FLAG(int64_t, ood_fit_images, 10000,
          "Training images the Mahalanobis and KNN scores are fitted on (a "
          "subset drawn with --ood_seed).");
ABSL_FLAG(int32_t, ood_knn_k, 50, "Neighbour of the KNN score.");
ABSL_FLAG(uint64_t, ood_seed, 0, "Seed of the noise source and fit subset.");
ABSL_FLAG(std::string, ood_manifest, "",
          "Another store (its manifest.pb) scored as an OOD source; it must "
          "hold images of the model's size and channels.");
ABSL_FLAG(std::string, ood_split, "test", "Split of --ood_manifest.");
ABSL_FLAG(int64_t, adversarial_images, 500,
          "Images attacked: a subset of the split drawn with "
          "--adversarial_seed (0 skips the attacks; more than the split is "
          "refused).");
ABSL_FLAG(uint64_t, adversarial_seed, 0, "Seed of the subset and attacks.");
ABSL_FLAG(std::string, adversarial_linf_epsilons, "1/255,2/255,4/255,8/255",
          "L-inf budgets in pixel units (pixels in [0, 1]) for FGSM, PGD, "
          "APGD-CE and Square: decimals or fractions, comma-separated.");
ABSL_FLAG(std::string, adversarial_l2_epsilons, "0.1,0.25,0.5",
          "L2 budgets in pixel units for PGD L2.");
ABSL_FLAG(int32_t, pgd_steps, 10, "Steps of PGD (L-inf and L2).");
ABSL_FLAG(double, pgd_linf_step_ratio, 0.25,
          "PGD L-inf step size / epsilon (torchattacks: 2/255 at 8/255).");
ABSL_FLAG(double, pgd_l2_step_ratio, 0.2,
          "PGD L2 step size / epsilon (torchattacks: 0.2 at 1.0).");
ABSL_FLAG(int32_t, apgd_iterations, 100,
          "Iterations of APGD-CE (AutoAttack: 100).");
ABSL_FLAG(int32_t, square_queries, 100, "Queries per image of Square.");
ABSL_FLAG(double, square_p_init, 0.8,
          "Square's initial share of the image a square covers.");
ABSL_FLAG(std::string, device, "cpu", vit_moe::eval::kDeviceFlagHelp);
ABSL_FLAG(std::string, precision, "float32",
          vit_moe::model::kPrecisionFlagHelp);

namespace vit_moe::eval {
namespace {

// Images per forward pass at most: beyond it one batch's activations
// outgrow any machine this runs on, and no split gains from it.
constexpr int64_t kMaxBatchSize = 65536;

absl::StatusOr<std::vector<double>> ParseAlphas(const std::string& flag) {
  std::vector<double> alphas;
  if (flag.empty()) return alphas;
  for (absl::string_view part : absl::StrSplit(flag, ',')) {
    double alpha = 0;
    if (!absl::SimpleAtod(part, &alpha)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--conformal_alphas: '", part, "' is not a number"));
    }
    alphas.push_back(alpha);
  }
  return alphas;
}

absl::Status Run() {
  EvaluateOptions options;
  options.model_path = data::ResolveUserPath(absl::GetFlag(FLAGS_model));
  options.manifest_path = data::ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  options.normalization_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_normalization));
  const std::string out_dir =
      data::ResolveUserPath(absl::GetFlag(FLAGS_out_dir));
  if (options.model_path.empty() || options.manifest_path.empty() ||
      options.normalization_path.empty() || out_dir.empty()) {
    return absl::InvalidArgumentError(
        "--model, --manifest, --normalization and --out_dir are required");
  }
  StageFiles inputs;
  inputs.AddInput("--model", options.model_path);
  data::AddStoreInputs("--manifest", options.manifest_path, &inputs);
  inputs.AddInput("--normalization", options.normalization_path);
  RETURN_IF_ERROR(inputs.CheckOutput("--out_dir", out_dir));
  options.split = absl::GetFlag(FLAGS_split);
  options.temperature_split = absl::GetFlag(FLAGS_temperature_split);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.limit_images = absl::GetFlag(FLAGS_limit_images);
  options.corruption_images = absl::GetFlag(FLAGS_corruption_images);
  options.corruption_seed = absl::GetFlag(FLAGS_corruption_seed);
  options.latency_runs = absl::GetFlag(FLAGS_latency_runs);
  if (options.batch_size <= 0 || options.batch_size > kMaxBatchSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_size must lie in 1..", kMaxBatchSize, " (got ",
                     options.batch_size, ")"));
  }
  if (options.limit_images < 0 || options.corruption_images < 0 ||
      options.latency_runs < 0) {
    return absl::InvalidArgumentError(
        "--limit_images, --corruption_images and --latency_runs must not be "
        "negative");
  }
  ASSIGN_OR_RETURN(options.coverage.alphas,
                   ParseAlphas(absl::GetFlag(FLAGS_conformal_alphas)));
  options.coverage.seed = absl::GetFlag(FLAGS_conformal_seed);
  options.coverage.calibration_fraction =
      absl::GetFlag(FLAGS_conformal_calibration_fraction);
  options.coverage.raps.k_reg = absl::GetFlag(FLAGS_raps_k_reg);
  options.coverage.raps.lambda = absl::GetFlag(FLAGS_raps_lambda);
  options.coverage.bootstrap_seed = absl::GetFlag(FLAGS_bootstrap_seed);
  options.coverage.bootstrap_resamples =
      absl::GetFlag(FLAGS_bootstrap_resamples);
  options.ood.images = absl::GetFlag(FLAGS_ood_images);
  options.ood.fit_images = absl::GetFlag(FLAGS_ood_fit_images);
  options.ood.knn_k = absl::GetFlag(FLAGS_ood_knn_k);
  options.ood.seed = absl::GetFlag(FLAGS_ood_seed);
  options.ood.manifest_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_ood_manifest));
  options.ood.split = absl::GetFlag(FLAGS_ood_split);
  if (options.ood.images < 0 || options.ood.fit_images < 1 ||
      options.ood.knn_k < 1) {
    return absl::InvalidArgumentError(
        "--ood_images must not be negative; --ood_fit_images and "
        "--ood_knn_k must be at least 1");
  }
  AdversarialOptions& adversarial = options.adversarial;
  adversarial.images = absl::GetFlag(FLAGS_adversarial_images);
  adversarial.seed = absl::GetFlag(FLAGS_adversarial_seed);
  ASSIGN_OR_RETURN(
      adversarial.linf_epsilons,
      ParseEpsilons("--adversarial_linf_epsilons",
                    absl::GetFlag(FLAGS_adversarial_linf_epsilons)));
  ASSIGN_OR_RETURN(adversarial.l2_epsilons,
                   ParseEpsilons("--adversarial_l2_epsilons",
                                 absl::GetFlag(FLAGS_adversarial_l2_epsilons)));
  adversarial.pgd_steps = absl::GetFlag(FLAGS_pgd_steps);
  adversarial.pgd_linf_step_ratio = absl::GetFlag(FLAGS_pgd_linf_step_ratio);
  adversarial.pgd_l2_step_ratio = absl::GetFlag(FLAGS_pgd_l2_step_ratio);
  adversarial.apgd_iterations = absl::GetFlag(FLAGS_apgd_iterations);
  adversarial.square_queries = absl::GetFlag(FLAGS_square_queries);
  adversarial.square_p_init = absl::GetFlag(FLAGS_square_p_init);
  // The subset's bound needs the split; the rest is checked now.
  RETURN_IF_ERROR(ValidateAdversarialOptions(
      adversarial, std::numeric_limits<int64_t>::max()));
  ASSIGN_OR_RETURN(options.device,
                   ParseDeviceFlag(absl::GetFlag(FLAGS_device)));
  ASSIGN_OR_RETURN(
      model::PrecisionChoice precision,
      model::PrecisionFromFlag(absl::GetFlag(FLAGS_precision), options.device));
  if (!precision.fallback_reason.empty()) {
    LOG(WARNING) << precision.fallback_reason;
  }
  options.precision = precision;

  // Held until the report is written: one evaluation per folder.
  ASSIGN_OR_RETURN(const std::unique_ptr<RunFolder> folder,
                   RunFolder::Claim("--out_dir", out_dir));
  ASSIGN_OR_RETURN(EvaluationReport report, Evaluate(options));
  RETURN_IF_ERROR(WriteBinaryProto(out_dir + "/evaluation.pb", report));
  // Small enough to commit as a //eval:gate --baseline.
  RETURN_IF_ERROR(
      WriteTextProto(out_dir + "/baseline.textproto", BaselineReport(report)));
  ASSIGN_OR_RETURN(std::vector<std::string> written,
                   WriteReport(report, out_dir));
  std::cout << "top-1 " << report.top1_accuracy() << ", top-5 "
            << report.top5_accuracy() << ", NLL " << report.nll() << ", ECE "
            << report.calibration().ece();
  if (report.has_calibration_scaled()) {
    std::cout << " -> " << report.calibration_scaled().ece() << " at T "
              << report.temperature();
  }
  std::cout << ", AURC " << report.aurc();
  if (report.corruptions_size() > 0) {
    std::cout << ", mean corruption accuracy "
              << report.mean_corruption_accuracy();
  }
  if (report.has_ood()) {
    for (const OodResult& r : report.ood().results()) {
      if (r.score() != "energy") continue;
      std::cout << ", energy AUROC " << r.source() << " " << r.auroc();
    }
  }
  if (report.has_adversarial()) {
    for (const AdversarialRobustAccuracy& r : report.adversarial().robust()) {
      std::cout << ", robust " << r.norm() << " " << r.epsilon() << " "
                << r.accuracy();
    }
    for (const AdversarialMaskingCheck& c : report.adversarial().checks()) {
      if (!c.passed())
        std::cout << "\nGRADIENT MASKING: " << c.check() << ": " << c.detail();
    }
  }
  for (const ConformalResult& c : report.conformal().results()) {
    std::cout << "\nconformal " << c.score() << " alpha " << c.alpha()
              << ": coverage " << c.coverage() << ", mean set size "
              << c.mean_set_size();
  }
  std::cout << "\nwrote " << out_dir
            << "/evaluation.pb, baseline.textproto and " << written.front()
            << " (+" << written.size() - 1 << " figures)" << std::endl;
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::eval

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Evaluates a trained model: accuracy, per-class metrics, calibration, "
      "selective risk, corruption robustness, out-of-distribution "
      "detection, adversarial robustness, expert utilisation, latency.\n"
      "usage: evaluate --model=M --manifest=S --normalization=N --out_dir=D",
      vit_moe::eval::Run);
}
