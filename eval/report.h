// The human-readable side of an evaluation: a Markdown report and its PNG
// figures, drawn from an EvaluationReport alone, so a report can be
// regenerated from the artifact without the model or the data.
#ifndef VIT_MOE_EVAL_REPORT_H_
#define VIT_MOE_EVAL_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

// Writes <out_dir>/report.md and <out_dir>/figures/*.png (each atomically).
// Returns the paths written, report first. Sections whose data the report
// lacks (no corruptions, no MoE layers, no latency) are left out.
absl::StatusOr<std::vector<std::string>> WriteReport(
    const EvaluationReport& report, const std::string& out_dir);

// The Markdown text alone; `figures` is the folder name the images are
// linked under, relative to the report.
std::string RenderMarkdown(const EvaluationReport& report,
                           const std::string& figures);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_REPORT_H_
