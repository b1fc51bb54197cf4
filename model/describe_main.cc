// Prints a model's architecture, parameter count and analytic FLOPs.
//
//   bazel run //model:describe -- --preset=seed --num_classes=43
#include <iostream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/vit_moe.h"

ABSL_FLAG(std::string, preset, "default", "Model preset: seed or default.");
ABSL_FLAG(int32_t, num_classes, 0,
          "Output classes; 0 keeps the preset's (seed 43, default 10).");
ABSL_FLAG(int32_t, image_size, 0,
          "Input side in pixels; 0 keeps the preset's.");
ABSL_FLAG(int32_t, in_channels, 0, "Input channels; 0 keeps the preset's (3).");

namespace vit_moe::model {
namespace {

absl::Status Run() {
  ModelConfig config;
  config.set_preset(absl::GetFlag(FLAGS_preset));
  if (int v = absl::GetFlag(FLAGS_num_classes); v != 0) {
    config.set_num_classes(v);
  }
  if (int v = absl::GetFlag(FLAGS_image_size); v != 0) config.set_image_size(v);
  if (int v = absl::GetFlag(FLAGS_in_channels); v != 0) {
    config.set_in_channels(v);
  }
  absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(config);
  if (!resolved.ok()) {
    // The fields come from this binary's flags: name them, not a config.
    std::string flags = absl::StrCat("--preset=", config.preset());
    for (const auto& [name, value] :
         {std::pair{"num_classes", absl::GetFlag(FLAGS_num_classes)},
          std::pair{"image_size", absl::GetFlag(FLAGS_image_size)},
          std::pair{"in_channels", absl::GetFlag(FLAGS_in_channels)}}) {
      if (value != 0) absl::StrAppend(&flags, " --", name, "=", value);
    }
    return absl::Status(resolved.status().code(),
                        absl::StrCat(flags, ": ", resolved.status().message()));
  }
  ViTMoE model(*resolved);
  std::cout << DescribeModel(model);
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::model

int main(int argc, char** argv) {
  return vit_moe::RunStage(argc, argv,
                           "Prints the architecture and parameter count of a "
                           "ViT-MoE preset.\nUsage: describe --preset=seed "
                           "--num_classes=43",
                           vit_moe::model::Run);
}
