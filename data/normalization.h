// Per-channel normalisation: computed once over the training split by
// //data:normalize, applied to every batch by training, evaluation and
// prediction.
#ifndef VIT_MOE_DATA_NORMALIZATION_H_
#define VIT_MOE_DATA_NORMALIZATION_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "data/normalization.pb.h"
#include "data/store.h"

namespace vit_moe::data {

// uint8 [B,C,H,W] -> float32 (x/255 - mean[c]) / std[c]. The channel
// counts must agree (CHECKed, a programmer invariant): every stage checks
// its normalization against the store or model it is used with
// (data/artifact_fit.h) before the first batch.
torch::Tensor NormalizeImages(const torch::Tensor& images,
                              const Normalization& norm);

// float32 pixels in [0, 1] [B,C,H,W] -> (p - mean[c]) / std[c], the same
// arithmetic as NormalizeImages (equal bits for p = x/255), out of place so
// that gradients flow back to the pixels (adversarial attacks).
torch::Tensor NormalizePixels(const torch::Tensor& pixels,
                              const Normalization& norm);

// Reads a binary Normalization proto and checks it (channels 1 or 3, mean
// and std of equal length, std > 0); errors name the file.
absl::StatusOr<Normalization> ReadNormalization(const std::string& path);

// Mean and population std per channel of pixel/255 over the store's "train"
// split, accumulated in float64 (exact: integer sums of x and x^2).
absl::StatusOr<Normalization> ComputeNormalization(const DatasetStore& store);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_NORMALIZATION_H_
