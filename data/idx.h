// IDX files (the MNIST / Fashion-MNIST container): a big-endian magic
// 0x000008DD (08 = unsigned byte, DD = number of dimensions), DD big-endian
// uint32 sizes, then the values in row-major order. Parses already
// decompressed bytes; free of LibTorch so the fuzz target stays light.
#ifndef VIT_MOE_DATA_IDX_H_
#define VIT_MOE_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::data {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

struct IdxImages {
  int64_t count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> pixels;  // [count, rows, cols], row-major
};

// `name` only labels errors ("FILE: wrong magic 0x...").
absl::StatusOr<IdxImages> ParseIdxImages(absl::string_view bytes,
                                         const std::string& name);
absl::StatusOr<std::vector<uint8_t>> ParseIdxLabels(absl::string_view bytes,
                                                    const std::string& name);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_IDX_H_
