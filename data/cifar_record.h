// CIFAR-10 binary batches: records of 1 label byte then 3072 pixel bytes
// (1024 R, 1024 G, 1024 B, each a row-major 32x32 plane). No LibTorch.
#ifndef VIT_MOE_DATA_CIFAR_RECORD_H_
#define VIT_MOE_DATA_CIFAR_RECORD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/converted.h"

namespace vit_moe::data {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarRecordBytes = 1 + 3 * kCifarSide * kCifarSide;

// Appends the batch's images (as HWC RGB) and labels to `out`. The size must
// be a non-zero multiple of 3073 and labels 0..9; errors name the file and,
// for labels, the record.
absl::Status AppendCifarBatch(absl::string_view bytes, const std::string& name,
                              ImageSet& out);

// batches.meta.txt: the 10 class names, one a line (blank lines ignored).
absl::StatusOr<std::vector<std::string>> ParseCifarClassNames(
    absl::string_view text, const std::string& name);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_CIFAR_RECORD_H_
