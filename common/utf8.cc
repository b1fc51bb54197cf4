#include "common/utf8.h"

#include <cstddef>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace vit_moe {
namespace {

// The offset of the first byte that does not start a well-formed sequence,
// or text.size() when there is none (RFC 3629's table of valid sequences).
size_t FirstInvalidByte(absl::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t lead = bytes[i];
    size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;  // range of the second byte
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > n) return i;
    for (size_t k = 1; k < length; ++k) {
      const uint8_t b = bytes[i + k];
      const uint8_t lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (b < lo || b > hi) return i;
    }
    i += length;
  }
  return n;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  return FirstInvalidByte(text) == text.size();
}

absl::Status CheckUtf8(absl::string_view text, absl::string_view what) {
  const size_t bad = FirstInvalidByte(text);
  if (bad == text.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s \"%s\" is not valid UTF-8 (byte 0x%02X at offset %d); the stage "
      "records it as text, so rename it (e.g. `convmv -f latin1 -t utf8`)",
      what, absl::CHexEscape(text), static_cast<uint8_t>(text[bad]), bad));
}

}  // namespace vit_moe
