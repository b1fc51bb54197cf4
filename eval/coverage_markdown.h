// The Markdown of the report's statistical sections (intervals beside
// numbers, conformal prediction sets), drawn from an EvaluationReport
// alone, like the rest of report.md.
#ifndef VIT_MOE_EVAL_COVERAGE_MARKDOWN_H_
#define VIT_MOE_EVAL_COVERAGE_MARKDOWN_H_

#include <string>

#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

// " [0.0123, 0.0201]", or " [86.70, 88.01]%" with `percent`, or "" when
// the interval is not `present`.
std::string IntervalSuffix(const IntervalEstimate& interval, bool present,
                           bool percent);

// The "Prediction sets" section, or "" when the report has none.
std::string RenderConformalMarkdown(const EvaluationReport& report);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_COVERAGE_MARKDOWN_H_
