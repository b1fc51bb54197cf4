#include "data/ppm.h"

#include <cctype>

#include "absl/strings/str_cat.h"

namespace vit_moe::data {
namespace {

// Sides beyond this are not images this project could use; the limit keeps
// a hostile header from asking for gigabytes.
constexpr int64_t kMaxSide = 1 << 14;

class HeaderReader {
 public:
  HeaderReader(absl::string_view bytes, const std::string& name)
      : bytes_(bytes), name_(name) {}

  // Skips whitespace and comments, then reads a decimal number.
  absl::StatusOr<int64_t> Number(absl::string_view what) {
    while (pos_ < bytes_.size()) {
      char c = bytes_[pos_];
      if (c == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n') ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
    int64_t value = 0;
    size_t start = pos_;
    while (pos_ < bytes_.size() &&
           std::isdigit(static_cast<unsigned char>(bytes_[pos_]))) {
      value = value * 10 + (bytes_[pos_] - '0');
      if (value > (int64_t{1} << 31)) {
        return Error(absl::StrCat(what, " is too large"));
      }
      ++pos_;
    }
    if (pos_ == start) {
      return Error(pos_ >= bytes_.size()
                       ? absl::StrCat("truncated header (no ", what, ")")
                       : absl::StrCat("bad ", what, " in header"));
    }
    return value;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": bad PPM: ", what));
  }

  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }

 private:
  absl::string_view bytes_;
  const std::string& name_;
  size_t pos_ = 2;  // after the magic
};

}  // namespace

absl::StatusOr<RgbImage> ParsePpm(absl::string_view bytes,
                                  const std::string& name) {
  HeaderReader reader(bytes, name);
  if (bytes.size() < 2 || bytes[0] != 'P' || bytes[1] != '6') {
    return reader.Error("not a binary PPM (magic P6)");
  }
  auto width = reader.Number("width");
  if (!width.ok()) return width.status();
  auto height = reader.Number("height");
  if (!height.ok()) return height.status();
  auto maxval = reader.Number("maxval");
  if (!maxval.ok()) return maxval.status();
  if (*width < 1 || *height < 1 || *width > kMaxSide || *height > kMaxSide) {
    return reader.Error(absl::StrCat("size ", *width, "x", *height,
                                     " out of range 1..", kMaxSide));
  }
  if (*maxval < 1 || *maxval > 255) {
    return reader.Error(absl::StrCat("maxval ", *maxval,
                                     " (only 8-bit samples, maxval 1..255)"));
  }
  if (reader.pos() >= bytes.size() ||
      !std::isspace(static_cast<unsigned char>(bytes[reader.pos()]))) {
    return reader.Error("no whitespace after the header");
  }
  reader.Skip(1);
  const size_t expected = static_cast<size_t>(*width) * *height * 3;
  const size_t available = bytes.size() - reader.pos();
  if (available < expected) {
    return reader.Error(absl::StrCat("truncated pixel data: ", available,
                                     " bytes, expected ", expected));
  }
  RgbImage image;
  image.width = static_cast<int>(*width);
  image.height = static_cast<int>(*height);
  const auto* data =
      reinterpret_cast<const uint8_t*>(bytes.data() + reader.pos());
  image.pixels.assign(data, data + expected);
  if (*maxval != 255) {
    for (uint8_t& v : image.pixels) {
      if (v > *maxval) return reader.Error("sample above maxval");
      v = static_cast<uint8_t>((v * 255 + *maxval / 2) / *maxval);
    }
  }
  return image;
}

std::string EncodePpm(const RgbImage& image) {
  std::string out =
      absl::StrCat("P6\n", image.width, " ", image.height, "\n255\n");
  out.append(reinterpret_cast<const char*>(image.pixels.data()),
             image.pixels.size());
  return out;
}

}  // namespace vit_moe::data
