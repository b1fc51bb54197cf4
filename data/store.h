// Read side of the packed store: the manifest plus every split as uint8
// tensors in memory. Fashion-MNIST is 55 MB, CIFAR-10 184 MB, GTSRB (32x32)
// 160 MB, so whole splits in memory cost less than any streaming scheme.
#ifndef VIT_MOE_DATA_STORE_H_
#define VIT_MOE_DATA_STORE_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/dataset.pb.h"

namespace vit_moe::data {

struct SplitData {
  std::string name;      // "train" | "validation" | "test"
  torch::Tensor images;  // [N, H, W, C] uint8, CPU, contiguous
  torch::Tensor labels;  // [N] int64
};

class DatasetStore {
 public:
  // Reads the DatasetManifest, verifies each store file's SHA-256 and size,
  // loads the splits. Errors name the file (DataLoss for a digest mismatch,
  // FailedPrecondition for a format version this code does not know).
  static absl::StatusOr<DatasetStore> Open(const std::string& manifest_path);

  const DatasetManifest& manifest() const { return manifest_; }
  // SHA-256 of the manifest file's bytes.
  const std::string& manifest_sha256() const { return manifest_sha256_; }
  // NotFound if the store has no split of that name.
  absl::StatusOr<const SplitData*> split(absl::string_view name) const;
  int num_classes() const { return manifest_.class_names_size(); }

 private:
  DatasetManifest manifest_;
  std::string manifest_sha256_;
  std::vector<SplitData> splits_;
};

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_STORE_H_
