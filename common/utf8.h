// Artifacts are protobufs, whose `string` fields must hold UTF-8: a record
// written with other bytes cannot be parsed again by any later stage. File
// and folder names come from users' disks, where Latin-1 and other legacy
// encodings still occur, so names that become text in an artifact are
// checked before any work is done.
#ifndef VIT_MOE_COMMON_UTF8_H_
#define VIT_MOE_COMMON_UTF8_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vit_moe {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or
// code points above U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// InvalidArgument naming `what`, the text (C-escaped) and the first bad
// byte's offset when `text` is not valid UTF-8.
absl::Status CheckUtf8(absl::string_view text, absl::string_view what);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_UTF8_H_
