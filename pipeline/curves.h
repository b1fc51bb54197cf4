// Training curves as PNG files (common/plot.h, PLplot) in the output folder,
// against epoch: loss.png, accuracy.png and balance_loss.png (train and
// validation), and routing.png (each MoE layer's router entropy and load
// imbalance).
#ifndef VIT_MOE_PIPELINE_CURVES_H_
#define VIT_MOE_PIPELINE_CURVES_H_

#include <string>

#include "absl/status/status.h"
#include "pipeline/training_run.pb.h"

namespace vit_moe::pipeline {

// Draws the curves of run.epochs(); validation points only on evaluated
// epochs. Needs at least one epoch.
absl::Status WriteCurves(const std::string& output_dir, const TrainingRun& run);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_CURVES_H_
