#include "common/proto_io.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"

namespace vit_moe {
namespace {

// Collects parser complaints as "FILE:LINE:COLUMN: message" (1-based).
class CollectingErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrorCollector(std::string file)
      : file_(std::move(file)) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(
        absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message));
  }

  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::Status ParseTextProto(const std::string& text,
                            const std::string& name_for_errors,
                            google::protobuf::Message* message) {
  CollectingErrorCollector errors(name_for_errors);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    std::string joined = errors.Joined();
    return absl::InvalidArgumentError(
        joined.empty() ? absl::StrCat(name_for_errors, ": not a valid ",
                                      message->GetTypeName())
                       : joined);
  }
  return absl::OkStatus();
}

absl::Status ReadTextProto(const std::string& path,
                           google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseTextProto(text, path, message);
}

absl::Status WriteTextProto(const std::string& path,
                            const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  if (!printer.PrintToString(message, &text)) {
    return absl::InternalError(
        absl::StrCat(path, ": cannot print ", message.GetTypeName()));
  }
  return WriteFileAtomically(path, text);
}

absl::Status ReadBinaryProto(const std::string& path,
                             google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseBinaryProto(path, bytes, message);
}

absl::Status ParseBinaryProto(const std::string& path, const std::string& bytes,
                              google::protobuf::Message* message) {
  if (bytes.empty()) {
    return absl::DataLossError(absl::StrCat(
        path, ": empty file, expected a binary ", message->GetTypeName()));
  }
  if (!message->ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a valid binary ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

std::string SerializeDeterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

absl::Status WriteBinaryProto(const std::string& path,
                              const google::protobuf::Message& message) {
  return WriteFileAtomically(path, SerializeDeterministic(message));
}

}  // namespace vit_moe
