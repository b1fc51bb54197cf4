// Test-only: a tiny synthetic dataset store (manifest.pb, store files and
// normalization.pb) written with the data package's own writer, so training
// tests read exactly what //data:download and //data:normalize produce.
#ifndef VIT_MOE_PIPELINE_TEST_DATASET_H_
#define VIT_MOE_PIPELINE_TEST_DATASET_H_

#include <string>

#include "absl/status/statusor.h"

namespace vit_moe::pipeline::testing {

struct TestDataset {
  std::string manifest;       // <dir>/manifest.pb
  std::string normalization;  // <dir>/normalization.pb
};

// `classes` classes of `per_class` 8x8 grey images each (a bright 2x2 block
// at a class-specific place over seeded noise, so the classes are
// learnable), a quarter moved to validation, plus a small test split.
// TrainConfig text for the inside of `model { }`: the tiny ViT-MoE the
// training tests train on these images (default preset, 2 layers of width
// 16, 2 heads, one 4x4 patch per token).
inline constexpr char kTinyModelFields[] = R"(  preset: "default"
  conv_stem_layers: 0
  patch_size: 4
  embed_dim: 16
  depth: 2
  num_heads: 2
)";

absl::StatusOr<TestDataset> WriteTestDataset(const std::string& dir,
                                             int classes = 4,
                                             int per_class = 24);

}  // namespace vit_moe::pipeline::testing

#endif  // VIT_MOE_PIPELINE_TEST_DATASET_H_
