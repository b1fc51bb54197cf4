// Runs an exported model in onnxruntime, through Node.js and the npm package
// onnxruntime-node (the only onnxruntime this project's machines have; see
// ci/setup.sh), by way of run_onnxruntime.js. Used by the parity test and
// the latency benchmark; tensors travel as raw float32 files.
#ifndef VIT_MOE_MODEL_ONNX_ONNXRUNTIME_RUNNER_H_
#define VIT_MOE_MODEL_ONNX_ONNXRUNTIME_RUNNER_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vit_moe::model::onnx_export {

struct OnnxRuntime {
  std::string node;        // the node executable
  std::string ort_module;  // .../node_modules/onnxruntime-node
  std::string script;      // run_onnxruntime.js
};

// Finds node (on PATH or in /usr/bin, /usr/local/bin) and onnxruntime-node
// (under $VIT_MOE_TOOLS, default /opt/vit_moe/tools) and checks that node
// loads it. FailedPrecondition saying to run ci/setup.sh when either is
// missing or broken; NotFound if `script` is missing.
absl::StatusOr<OnnxRuntime> FindOnnxRuntime(const std::string& script);

// images: [B, C, H, W] float32 -> logits [B, classes] float32. Temporary
// files go to `work_dir`.
absl::StatusOr<torch::Tensor> RunOnnxRuntime(const OnnxRuntime& ort,
                                             const std::string& model_path,
                                             const torch::Tensor& images,
                                             const std::string& work_dir);

// Seconds of each of `runs` session runs on `images` after one warm-up
// run, timed inside node around InferenceSession.run. threads 0 = the
// onnxruntime default.
absl::StatusOr<std::vector<double>> TimeOnnxRuntime(
    const OnnxRuntime& ort, const std::string& model_path,
    const torch::Tensor& images, int runs, int threads,
    const std::string& work_dir);

}  // namespace vit_moe::model::onnx_export

#endif  // VIT_MOE_MODEL_ONNX_ONNXRUNTIME_RUNNER_H_
