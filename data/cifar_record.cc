#include "data/cifar_record.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vit_moe::data {
namespace {

constexpr int kNumClasses = 10;
constexpr int kPlane = kCifarSide * kCifarSide;

}  // namespace

absl::Status AppendCifarBatch(absl::string_view bytes, const std::string& name,
                              ImageSet& out) {
  if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": ", bytes.size(), " bytes is not a whole number of ",
        kCifarRecordBytes, "-byte CIFAR-10 records"));
  }
  const size_t records = bytes.size() / kCifarRecordBytes;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  out.pixels.reserve(out.pixels.size() + records * 3 * kPlane);
  for (size_t r = 0; r < records; ++r) {
    const uint8_t* record = data + r * kCifarRecordBytes;
    if (record[0] >= kNumClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": record ", r, " has label ", int{record[0]},
                       " (CIFAR-10 labels are 0..9)"));
    }
    out.labels.push_back(record[0]);
    const uint8_t* planes = record + 1;  // [3, 32, 32]
    for (int p = 0; p < kPlane; ++p) {   // -> [32, 32, 3]
      out.pixels.push_back(planes[p]);
      out.pixels.push_back(planes[kPlane + p]);
      out.pixels.push_back(planes[2 * kPlane + p]);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseCifarClassNames(
    absl::string_view text, const std::string& name) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) names.emplace_back(line);
  }
  if (names.size() != kNumClasses) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": lists ", names.size(), " class names, expected ",
                     kNumClasses));
  }
  return names;
}

}  // namespace vit_moe::data
