// //eval:gate - exits 1 with one line per failed metric when an evaluation
// report misses a threshold, 0 with a summary when it meets all of them.
#include <iostream>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/user_path.h"
#include "eval/gate.h"
#include "eval/gate_baseline.h"

ABSL_FLAG(std::string, report, "",
          "EvaluationReport written by //eval:evaluate (binary *.pb, or text "
          "format for any other name).");
ABSL_FLAG(std::string, thresholds, "",
          "GateThresholds text proto (eval/gate_thresholds.proto).");
ABSL_FLAG(std::string, baseline, "",
          "EvaluationReport of a baseline model on the same split and store: "
          "compared image by image with --report (McNemar's exact test), "
          "judged by the thresholds' baseline_max_drop and "
          "baseline_significance.");

namespace {

absl::StatusOr<int> Run(const std::vector<std::string>& arguments) {
  using namespace vit_moe;
  RETURN_IF_ERROR(RefuseArguments(arguments));
  const std::string report_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_report));
  const std::string thresholds_path =
      data::ResolveUserPath(absl::GetFlag(FLAGS_thresholds));
  if (report_path.empty() || thresholds_path.empty()) {
    return absl::InvalidArgumentError("--report and --thresholds are required");
  }
  ASSIGN_OR_RETURN(const eval::GateThresholds thresholds,
                   eval::ReadThresholds(thresholds_path));
  ASSIGN_OR_RETURN(const eval::EvaluationReport report,
                   eval::ReadReport(report_path));
  std::optional<eval::EvaluationReport> baseline;
  if (const std::string baseline_path =
          data::ResolveUserPath(absl::GetFlag(FLAGS_baseline));
      !baseline_path.empty()) {
    if (!thresholds.has_baseline_max_drop()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--baseline needs baseline_max_drop and baseline_significance in ",
          thresholds_path));
    }
    ASSIGN_OR_RETURN(baseline, eval::ReadReport(baseline_path));
    RETURN_IF_ERROR(
        eval::CheckSameImages(report, report_path, *baseline, baseline_path));
  }
  const eval::GateResult result = eval::CheckGate(
      report, thresholds, baseline.has_value() ? &*baseline : nullptr);
  const std::string judged = absl::StrCat("split ", report.split(), ", ",
                                          report.num_images(), " images");
  if (!result.passed()) {
    for (const std::string& line : result.failures) {
      std::cout << "FAIL " << line << "\n";
    }
    std::cout << "gate failed: " << result.failures.size() << " of "
              << result.failures.size() + result.passes.size()
              << " checks failed for " << report_path << " (" << judged << ")"
              << std::endl;
    return kExitFailure;
  }
  for (const std::string& line : result.passes) {
    std::cout << "ok   " << line << "\n";
  }
  std::cout << "gate passed: " << result.passes.size() << " checks for "
            << report_path << " (" << judged << ")" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vit_moe::RunStage(argc, argv,
                           "Checks an evaluation report against thresholds.\n"
                           "usage: gate --report=REPORT --thresholds=FILE "
                           "[--baseline=REPORT]",
                           Run);
}
