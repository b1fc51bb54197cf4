// Fashion-MNIST from its four IDX .gz files: 28x28x1 images, 10 classes,
// 60,000 training and 10,000 test images, stored as they are (no resize).
#ifndef VIT_MOE_DATA_FASHION_MNIST_H_
#define VIT_MOE_DATA_FASHION_MNIST_H_

#include "absl/status/statusor.h"
#include "data/converted.h"
#include "data/fetch.h"

namespace vit_moe::data {

// Decompresses each file, checks the pinned content digests, parses the IDX
// data and checks that counts, sizes and labels agree.
absl::StatusOr<ConvertedDataset> ConvertFashionMnist(
    const VerifiedSources& sources);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_FASHION_MNIST_H_
