// Setting one field of a protobuf message by its dotted path from the root
// ("optimizer.learning_rate=3e-3"), through reflection, so a command line
// can override any field of a config without a flag per field.
#ifndef VIT_MOE_COMMON_PROTO_FIELD_PATH_H_
#define VIT_MOE_COMMON_PROTO_FIELD_PATH_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace vit_moe {

// `assignment` is PATH=VALUE. Every name but the last must be a singular
// message field; the last a singular scalar, enum or string field. VALUE is
// read as text format reads it (numbers, true/false, enum names); a string
// may be given with or without quotes. Errors are InvalidArgument naming
// the path: an unknown name (listing the fields there), a repeated, map or
// message field at the end, or a value the field's type refuses. `message`
// is unchanged on error.
absl::Status SetFieldByPath(absl::string_view assignment,
                            google::protobuf::Message* message);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_PROTO_FIELD_PATH_H_
