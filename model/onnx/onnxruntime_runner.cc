#include "model/onnx/onnxruntime_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"

namespace vit_moe::model::onnx_export {

namespace {

constexpr char kSetupHint[] =
    "run ci/setup.sh (it installs Node.js and onnxruntime-node into "
    "$VIT_MOE_TOOLS, default /opt/vit_moe/tools)";

std::string Quote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

bool IsExecutable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path == nullptr ? "" : path, ':', absl::SkipEmpty());
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/local/bin");
  for (const std::string& dir : dirs) {
    if (IsExecutable(dir + "/node")) return dir + "/node";
  }
  return "";
}

// Runs a shell command; returns its combined output, or an error with the
// output's last line when it exits non-zero.
absl::StatusOr<std::string> Execute(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return absl::InternalError(absl::StrCat("cannot start: ", command));
  }
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, n);
  const int status = pclose(pipe);
  if (status != 0) {
    return absl::InternalError(absl::StrCat(
        command, " failed (status ", WEXITSTATUS(status), "): ", output));
  }
  return output;
}

absl::Status WriteImages(const torch::Tensor& images, const std::string& path) {
  torch::Tensor t = images.to(torch::kCPU, torch::kFloat).contiguous();
  return WriteFileAtomically(
      path,
      absl::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes()));
}

std::string RunCommand(const OnnxRuntime& ort, const std::string& model_path,
                       const torch::Tensor& images,
                       const std::string& input_path,
                       const std::string& output_path) {
  return absl::StrCat(
      Quote(ort.node), " ", Quote(ort.script), " --ort=", Quote(ort.ort_module),
      " --model=", Quote(model_path), " --input=", Quote(input_path),
      " --shape=", absl::StrJoin(images.sizes(), ","),
      " --output=", Quote(output_path));
}

}  // namespace

absl::StatusOr<OnnxRuntime> FindOnnxRuntime(const std::string& script) {
  OnnxRuntime ort;
  ort.script = script;
  if (access(script.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("missing ", script));
  }
  ort.node = FindNode();
  if (ort.node.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Node.js (node) not found on PATH: ", kSetupHint));
  }
  const char* tools = std::getenv("VIT_MOE_TOOLS");
  ort.ort_module =
      absl::StrCat(tools != nullptr && *tools ? tools : "/opt/vit_moe/tools",
                   "/node_modules/onnxruntime-node");
  absl::StatusOr<std::string> loaded = Execute(
      absl::StrCat(Quote(ort.node), " -e ",
                   Quote(absl::StrCat("require('", ort.ort_module, "')"))));
  if (!loaded.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("node cannot load onnxruntime-node from ", ort.ort_module,
                     ": ", kSetupHint, " (", loaded.status().message(), ")"));
  }
  return ort;
}

absl::StatusOr<torch::Tensor> RunOnnxRuntime(const OnnxRuntime& ort,
                                             const std::string& model_path,
                                             const torch::Tensor& images,
                                             const std::string& work_dir) {
  const std::string input = work_dir + "/ort_input.f32";
  const std::string output = work_dir + "/ort_logits.f32";
  RETURN_IF_ERROR(WriteImages(images, input));
  RETURN_IF_ERROR(
      Execute(RunCommand(ort, model_path, images, input, output)).status());
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(output));
  const int64_t batch = images.size(0);
  const int64_t values = static_cast<int64_t>(bytes.size() / sizeof(float));
  if (batch == 0 || values % batch != 0) {
    return absl::InternalError(absl::StrCat(
        output, " holds ", values, " floats, not a multiple of batch ", batch));
  }
  torch::Tensor logits = torch::empty({batch, values / batch}, torch::kFloat);
  std::memcpy(logits.data_ptr(), bytes.data(), bytes.size());
  return logits;
}

absl::StatusOr<std::vector<double>> TimeOnnxRuntime(
    const OnnxRuntime& ort, const std::string& model_path,
    const torch::Tensor& images, int runs, int threads,
    const std::string& work_dir) {
  const std::string input = work_dir + "/ort_input.f32";
  const std::string output = work_dir + "/ort_times.f64";
  RETURN_IF_ERROR(WriteImages(images, input));
  std::string command =
      absl::StrCat(RunCommand(ort, model_path, images, input, output),
                   " --time_runs=", runs);
  if (threads > 0) absl::StrAppend(&command, " --threads=", threads);
  RETURN_IF_ERROR(Execute(command).status());
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(output));
  if (bytes.size() != runs * sizeof(double)) {
    return absl::InternalError(absl::StrCat(output, " holds ", bytes.size(),
                                            " bytes, expected ",
                                            runs * sizeof(double)));
  }
  std::vector<double> seconds(runs);
  std::memcpy(seconds.data(), bytes.data(), bytes.size());
  return seconds;
}

}  // namespace vit_moe::model::onnx_export
