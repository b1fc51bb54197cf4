#include "common/proto_field_path.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace vit_moe {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::string FieldNames(const Descriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    names.push_back(descriptor.field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

std::string EnumNames(const EnumDescriptor& descriptor) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    names.push_back(descriptor.value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

// The error goes into the returned Status; protobuf would also log it.
class QuietErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, google::protobuf::io::ColumnNumber,
                const std::string&) override {}
};

bool IsQuoted(absl::string_view value) {
  return value.size() >= 2 && ((value.front() == '"' && value.back() == '"') ||
                               (value.front() == '\'' && value.back() == '\''));
}

// Sets the field on `message`; the caller works on a copy.
absl::Status SetLeaf(const std::string& path, absl::string_view value,
                     const FieldDescriptor& field, Message* message) {
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING && !IsQuoted(value)) {
    message->GetReflection()->SetString(message, &field, std::string(value));
    return absl::OkStatus();
  }
  QuietErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFieldValueFromString(std::string(value), &field, message)) {
    return absl::OkStatus();
  }
  std::string expected = field.type_name();
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
    expected = absl::StrCat("one of ", EnumNames(*field.enum_type()));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, "=", value, ": not a valid value (expected ", expected, ")"));
}

}  // namespace

absl::Status SetFieldByPath(absl::string_view assignment, Message* message) {
  const size_t equals = assignment.find('=');
  if (equals == absl::string_view::npos || equals == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", assignment, "\": expected FIELD.PATH=VALUE"));
  }
  const std::string path(assignment.substr(0, equals));
  const absl::string_view value = assignment.substr(equals + 1);
  const std::vector<std::string> names = absl::StrSplit(path, '.');
  std::unique_ptr<Message> copy(message->New());
  copy->CopyFrom(*message);
  Message* at = copy.get();
  for (size_t i = 0; i < names.size(); ++i) {
    const Descriptor& descriptor = *at->GetDescriptor();
    const FieldDescriptor* field = descriptor.FindFieldByName(names[i]);
    const std::string so_far = absl::StrJoin(
        names.begin(), names.begin() + static_cast<long>(i) + 1, ".");
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", descriptor.name(), " has no field \"",
                       names[i], "\" (it has ", FieldNames(descriptor), ")"));
    }
    const bool last = i + 1 == names.size();
    if (field->is_repeated()) {
      return absl::InvalidArgumentError(
          absl::StrCat(so_far,
                       ": a repeated field cannot be set from the "
                       "command line; set it in the config file"));
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (last) {
        return absl::InvalidArgumentError(
            absl::StrCat(so_far, " is a message; set one of its fields (",
                         FieldNames(*field->message_type()), ")"));
      }
      at = at->GetReflection()->MutableMessage(at, field);
      continue;
    }
    if (!last) {
      return absl::InvalidArgumentError(absl::StrCat(
          so_far, " is a ", field->type_name(), ", not a message with fields"));
    }
    if (absl::Status status = SetLeaf(path, value, *field, at); !status.ok()) {
      return status;
    }
  }
  message->CopyFrom(*copy);
  return absl::OkStatus();
}

}  // namespace vit_moe
