// The report.md sections and figures of the evidence beyond the test
// distribution: out-of-distribution detection (a table per score x source,
// score histograms in vs out, ROC curves) and adversarial robustness
// (attacks x epsilons, robust accuracy, the gradient-masking checks, and
// what top-k routing means for gradient attacks). Drawn from the
// EvaluationReport alone, as the rest of eval/report.h.
#ifndef VIT_MOE_EVAL_REPORT_OOD_ADVERSARIAL_H_
#define VIT_MOE_EVAL_REPORT_OOD_ADVERSARIAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

// Appends the sections the report has data for; `figures` as in
// RenderMarkdown.
void AppendOodAndAdversarialMarkdown(const EvaluationReport& report,
                                     const std::string& figures,
                                     std::string* md);

// Writes the figures into `figures_dir` (ood_histogram_<score>.png,
// ood_roc_<score>.png, adversarial_<norm>.png) and appends their paths.
absl::Status PlotOodAndAdversarial(const EvaluationReport& report,
                                   const std::string& figures_dir,
                                   std::vector<std::string>* written);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_REPORT_OOD_ADVERSARIAL_H_
