#include "data/idx.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vit_moe::data {
namespace {

uint32_t ReadBigEndian32(absl::string_view bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks magic and exact length; returns the dimension sizes.
absl::StatusOr<std::vector<uint32_t>> ParseHeader(absl::string_view bytes,
                                                  const std::string& name,
                                                  uint32_t magic,
                                                  int num_dims) {
  const size_t header_size = 4 + 4 * static_cast<size_t>(num_dims);
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": too short for an IDX header (", bytes.size(), " bytes)"));
  }
  uint32_t found = ReadBigEndian32(bytes, 0);
  if (found != magic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: wrong IDX magic 0x%08x, expected 0x%08x", name, found, magic));
  }
  if (bytes.size() < header_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": truncated IDX header (", bytes.size(), " bytes)"));
  }
  std::vector<uint32_t> dims;
  uint64_t values = 1;
  for (int d = 0; d < num_dims; ++d) {
    dims.push_back(ReadBigEndian32(bytes, 4 + 4 * d));
    values *= dims.back();
    // Guards the product against overflow on hostile headers; no real IDX
    // file comes near 2^40 values.
    if (values > (uint64_t{1} << 40)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": IDX dimensions too large"));
    }
  }
  uint64_t expected = header_size + values;
  if (bytes.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": IDX data is ", bytes.size(), " bytes, header says ", expected,
        bytes.size() < expected ? " (truncated)" : " (trailing bytes)"));
  }
  return dims;
}

}  // namespace

absl::StatusOr<IdxImages> ParseIdxImages(absl::string_view bytes,
                                         const std::string& name) {
  auto dims = ParseHeader(bytes, name, kIdxImagesMagic, 3);
  if (!dims.ok()) return dims.status();
  if ((*dims)[1] == 0 || (*dims)[2] == 0 || (*dims)[1] > 4096 ||
      (*dims)[2] > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": implausible image size ", (*dims)[1], "x", (*dims)[2]));
  }
  IdxImages images;
  images.count = (*dims)[0];
  images.rows = static_cast<int>((*dims)[1]);
  images.cols = static_cast<int>((*dims)[2]);
  images.pixels.assign(bytes.begin() + 16, bytes.end());
  return images;
}

absl::StatusOr<std::vector<uint8_t>> ParseIdxLabels(absl::string_view bytes,
                                                    const std::string& name) {
  auto dims = ParseHeader(bytes, name, kIdxLabelsMagic, 1);
  if (!dims.ok()) return dims.status();
  return std::vector<uint8_t>(bytes.begin() + 8, bytes.end());
}

}  // namespace vit_moe::data
