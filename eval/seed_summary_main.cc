// //eval:seed_summary - the mean and standard deviation of every headline
// metric over evaluation reports of one recipe trained with several seeds
// (pipeline.bzl's extra_seeds), printed and written as Markdown.
#include <iostream>

#include "absl/flags/flag.h"
#include "common/atomic_file.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/user_path.h"
#include "eval/gate.h"
#include "eval/seed_summary.h"

ABSL_FLAG(std::string, out, "",
          "Markdown file for the table (written atomically); empty prints "
          "only.");

namespace {

absl::StatusOr<int> Run(const std::vector<std::string>& arguments) {
  using namespace vit_moe;
  std::vector<std::string> paths;
  std::vector<eval::EvaluationReport> reports;
  for (const std::string& argument : arguments) {
    paths.push_back(data::ResolveUserPath(argument));
    ASSIGN_OR_RETURN(eval::EvaluationReport report,
                     eval::ReadReport(paths.back()));
    reports.push_back(std::move(report));
  }
  ASSIGN_OR_RETURN(const std::vector<eval::MetricSpread> spreads,
                   eval::SummariseSeeds(reports, paths));
  const std::string md = eval::RenderSeedSummary(spreads, paths);
  if (const std::string out = data::ResolveUserPath(absl::GetFlag(FLAGS_out));
      !out.empty()) {
    RETURN_IF_ERROR(WriteFileAtomically(out, md));
  }
  std::cout << md << std::flush;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return vit_moe::RunStage(
      argc, argv,
      "Mean and standard deviation of each headline metric over evaluation "
      "reports of the same recipe trained with different seeds.\n"
      "usage: seed_summary [--out=FILE.md] REPORT REPORT...",
      Run);
}
