// Reading and writing protobuf artifacts and configs. Binary for artifacts
// (byte-stable, digestible), text format for configs people edit. Errors name
// the file, and for text format the line and column.
#ifndef VIT_MOE_COMMON_PROTO_IO_H_
#define VIT_MOE_COMMON_PROTO_IO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace vit_moe {

// Parses text format. An unknown field or bad value returns
// InvalidArgument("FILE:LINE:COLUMN: what is wrong").
absl::Status ReadTextProto(const std::string& path,
                           google::protobuf::Message* message);
absl::Status ParseTextProto(const std::string& text,
                            const std::string& name_for_errors,
                            google::protobuf::Message* message);
absl::Status WriteTextProto(const std::string& path,
                            const google::protobuf::Message& message);

// DataLoss naming the file and the expected type for an empty file (every
// artifact this project writes has content; an empty one would parse as a
// message of defaults and fail later for a misleading reason) or bytes that
// are not a `message`.
absl::Status ReadBinaryProto(const std::string& path,
                             google::protobuf::Message* message);
// The same for `bytes` already read from `path`.
absl::Status ParseBinaryProto(const std::string& path, const std::string& bytes,
                              google::protobuf::Message* message);
// Serialises deterministically (map order fixed) so that equal messages give
// equal bytes and equal digests.
absl::Status WriteBinaryProto(const std::string& path,
                              const google::protobuf::Message& message);
std::string SerializeDeterministic(const google::protobuf::Message& message);

}  // namespace vit_moe

#endif  // VIT_MOE_COMMON_PROTO_IO_H_
