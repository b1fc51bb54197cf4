// What a training run leaves for people and tools besides checkpoints:
// metrics.csv (one row per epoch) and the library versions recorded in the
// TrainingRun artifact.
#ifndef VIT_MOE_PIPELINE_RUN_REPORT_H_
#define VIT_MOE_PIPELINE_RUN_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

// Rows of run.epochs(); timing columns are filled from run.timing() where
// this process trained the epoch and left empty otherwise (a resumed run
// does not know the clock of the epochs before it), validation columns on
// evaluated epochs only. Then four columns per MoE layer L:
// layerL_dropped, layerL_entropy, layerL_z_loss, layerL_imbalance (the
// LayerExpertLoad diagnostics). Written atomically.
absl::Status WriteMetricsCsv(const std::string& path, const TrainingRun& run);
std::string MetricsCsv(const TrainingRun& run);

// "libtorch 1.13.1", "protobuf 3.21.12", "abseil 20220623", ...
std::vector<std::string> LibraryVersions();

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_RUN_REPORT_H_
