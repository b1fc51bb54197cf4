#include "eval/gate_baseline.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/baseline_correctness.h"
#include "eval/statistics.h"

namespace vit_moe::eval {

absl::Status CheckSameImages(const EvaluationReport& report,
                             const std::string& report_path,
                             const EvaluationReport& baseline,
                             const std::string& baseline_path) {
  auto refuse = [&](const std::string& what) {
    return absl::FailedPreconditionError(
        absl::StrCat("--baseline=", baseline_path, " cannot be paired with ",
                     report_path, ": ", what));
  };
  if (report.split() != baseline.split()) {
    return refuse(absl::StrCat("it judged split '", baseline.split(),
                               "', the report split '", report.split(), "'"));
  }
  if (report.manifest_sha256() != baseline.manifest_sha256()) {
    return refuse(absl::StrCat("it judged the store with manifest ",
                               baseline.manifest_sha256(), ", the report ",
                               report.manifest_sha256()));
  }
  if (report.num_images() != baseline.num_images()) {
    return refuse(absl::StrCat("it judged ", baseline.num_images(),
                               " images, the report ", report.num_images()));
  }
  const size_t bytes = (report.num_images() + 7) / 8;
  for (const auto& [r, path] : {std::pair{&report, &report_path},
                                std::pair{&baseline, &baseline_path}}) {
    if (r->per_image().top1_correct().size() != bytes) {
      return refuse(absl::StrCat(
          *path, " holds no per-image correctness for its ", r->num_images(),
          " images (written by an older //eval:evaluate: evaluate again)"));
    }
  }
  return absl::OkStatus();
}

PairedComparison ComparePaired(const EvaluationReport& report,
                               const EvaluationReport& baseline) {
  PairedComparison c;
  c.images = report.num_images();
  const std::vector<bool> now =
      UnpackCorrectness(report.per_image().top1_correct(), c.images);
  const std::vector<bool> before =
      UnpackCorrectness(baseline.per_image().top1_correct(), c.images);
  for (int64_t i = 0; i < c.images; ++i) {
    c.new_right += now[i];
    c.baseline_right += before[i];
    c.only_baseline_right += before[i] && !now[i];
    c.only_new_right += now[i] && !before[i];
  }
  c.p_value = McNemarWorsePValue(c.only_baseline_right, c.only_new_right);
  return c;
}

EvaluationReport BaselineReport(const EvaluationReport& report) {
  EvaluationReport b;
  b.set_split(report.split());
  b.set_num_images(report.num_images());
  b.set_dataset(report.dataset());
  b.set_checkpoint_sha256(report.checkpoint_sha256());
  b.set_manifest_sha256(report.manifest_sha256());
  b.set_normalization_sha256(report.normalization_sha256());
  b.set_precision(report.precision());
  b.set_top1_accuracy(report.top1_accuracy());
  *b.mutable_per_image() = report.per_image();
  return b;
}

void CheckBaseline(const EvaluationReport& report,
                   const EvaluationReport* baseline, const GateThresholds& t,
                   GateResult* result) {
  if (!t.has_baseline_max_drop()) return;
  if (baseline == nullptr) {
    result->failures.push_back(
        "baseline comparison is not run (no --baseline) but "
        "baseline_max_drop is set");
    return;
  }
  const PairedComparison c = ComparePaired(report, *baseline);
  const bool worse =
      c.drop() > t.baseline_max_drop() && c.p_value < t.baseline_significance();
  const std::string line = absl::StrFormat(
      "baseline top1 drop %.4f (%.4f -> %.4f; %d images only the baseline "
      "got right, %d only this model; McNemar p %.3g) %s baseline_max_drop "
      "%.4f %s p < baseline_significance %.3g",
      c.drop(), static_cast<double>(c.baseline_right) / c.images,
      static_cast<double>(c.new_right) / c.images, c.only_baseline_right,
      c.only_new_right, c.p_value,
      c.drop() > t.baseline_max_drop() ? ">" : "<=", t.baseline_max_drop(),
      c.p_value < t.baseline_significance() ? "and" : "but not",
      t.baseline_significance());
  (worse ? result->failures : result->passes).push_back(line);
}

}  // namespace vit_moe::eval
