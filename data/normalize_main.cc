// //data:normalize - per-channel mean/std over a store's training split.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "common/proto_io.h"
#include "common/stage_files.h"
#include "common/startup.h"
#include "common/status_macros.h"
#include "data/normalization.h"
#include "data/store.h"
#include "data/store_inputs.h"
#include "data/user_path.h"

ABSL_FLAG(std::string, manifest, "",
          "manifest.pb of a store written by //data:download.");
ABSL_FLAG(std::string, out, "",
          "Output Normalization proto (binary), e.g. normalization.pb.");

namespace vit_moe::data {
namespace {

absl::Status Run() {
  const std::string manifest_path =
      ResolveUserPath(absl::GetFlag(FLAGS_manifest));
  const std::string out = ResolveUserPath(absl::GetFlag(FLAGS_out));
  if (manifest_path.empty() || out.empty()) {
    return absl::InvalidArgumentError("--manifest and --out are required");
  }
  StageFiles inputs;
  AddStoreInputs("--manifest", manifest_path, &inputs);
  RETURN_IF_ERROR(inputs.CheckOutput("--out", out));
  std::fprintf(stderr, "reading and verifying %s\n", manifest_path.c_str());
  ASSIGN_OR_RETURN(DatasetStore store, DatasetStore::Open(manifest_path));
  ASSIGN_OR_RETURN(Normalization norm, ComputeNormalization(store));
  RETURN_IF_ERROR(WriteBinaryProto(out, norm));
  for (int c = 0; c < norm.mean_size(); ++c) {
    std::printf("channel %d: mean %.6f std %.6f\n", c, norm.mean(c),
                norm.std(c));
  }
  std::printf("over %lld training images; wrote %s\n",
              static_cast<long long>(norm.num_images()), out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace vit_moe::data

int main(int argc, char** argv) {
  return vit_moe::RunStage(argc, argv,
                           "Computes per-channel mean and population std of a "
                           "store's training split.\n"
                           "  bazel run //data:normalize -- "
                           "--manifest=stores/fashion_mnist/manifest.pb "
                           "--out=stores/fashion_mnist/normalization.pb",
                           vit_moe::data::Run);
}
