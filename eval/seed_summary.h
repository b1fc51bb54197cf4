// Seed-to-seed spread of one recipe: the mean and sample standard deviation
// of every headline metric over evaluation reports of models trained with
// different seeds on the same split of the same store. What a gate's
// margin must absorb when it compares one training with another.
#ifndef VIT_MOE_EVAL_SEED_SUMMARY_H_
#define VIT_MOE_EVAL_SEED_SUMMARY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/evaluation.pb.h"

namespace vit_moe::eval {

struct MetricSpread {
  std::string name;
  std::vector<double> values;  // one per report, in the given order
  double mean = 0;
  // Sample standard deviation (n - 1); 0 for one report.
  double sd = 0;
};

// The metrics every report holds: top-1, top-5, NLL, ECE before and after
// temperature scaling, the lowest class recall, AURC, risk at 95%
// coverage, mean corruption accuracy, and each conformal (score, alpha)'s
// coverage and mean set size. InvalidArgument naming the files when fewer
// than two reports are given or two judged another split, store or image
// count.
absl::StatusOr<std::vector<MetricSpread>> SummariseSeeds(
    const std::vector<EvaluationReport>& reports,
    const std::vector<std::string>& paths);

// A Markdown table: metric, mean, sd, min, max and each report's value.
std::string RenderSeedSummary(const std::vector<MetricSpread>& spreads,
                              const std::vector<std::string>& paths);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_SEED_SUMMARY_H_
