#include "common/proto_field_path.h"

#include "common/test_message.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

using ::testing::HasSubstr;
using testing::TestMessage;

TEST(SetFieldByPathTest, SetsScalarsEnumsStringsAndNestedFields) {
  TestMessage message;
  ASSERT_TRUE(SetFieldByPath("count=12", &message).ok());
  ASSERT_TRUE(SetFieldByPath("name=run a", &message).ok());
  ASSERT_TRUE(SetFieldByPath("inner.rate=2.5e-3", &message).ok());
  ASSERT_TRUE(SetFieldByPath("inner.shade=DARK", &message).ok());
  ASSERT_TRUE(SetFieldByPath("inner.enabled=true", &message).ok());
  EXPECT_EQ(message.count(), 12);
  EXPECT_EQ(message.name(), "run a");
  EXPECT_TRUE(message.inner().has_rate());
  EXPECT_DOUBLE_EQ(message.inner().rate(), 2.5e-3);
  EXPECT_EQ(message.inner().shade(), testing::DARK);
  EXPECT_TRUE(message.inner().enabled());
  // Quoted strings are read as text format reads them; so is a zero, which
  // gives an optional field presence.
  ASSERT_TRUE(SetFieldByPath("name=\"a=b\"", &message).ok());
  EXPECT_EQ(message.name(), "a=b");
  ASSERT_TRUE(SetFieldByPath("inner.rate=0", &message).ok());
  EXPECT_TRUE(message.inner().has_rate());
}

TEST(SetFieldByPathTest, ErrorsNameThePathAndLeaveTheMessageAlone) {
  TestMessage message;
  message.set_count(4);
  const std::string before = message.SerializeAsString();
  const auto error = [&](const std::string& assignment) {
    absl::Status status = SetFieldByPath(assignment, &message);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << assignment;
    return std::string(status.message());
  };
  EXPECT_THAT(error("inner.rat=1"),
              HasSubstr("inner.rat: Inner has no field \"rat\" (it has rate, "
                        "shade, enabled)"));
  EXPECT_THAT(error("count=many"),
              HasSubstr("count=many: not a valid value (expected int32)"));
  EXPECT_THAT(error("count=99999999999"), HasSubstr("count=99999999999"));
  EXPECT_THAT(error("inner.shade=GREY"),
              HasSubstr("expected one of SHADE_UNSPECIFIED, LIGHT, DARK"));
  EXPECT_THAT(error("inner=1"), HasSubstr("inner is a message"));
  EXPECT_THAT(error("count.x=1"), HasSubstr("count is a int32, not a message"));
  EXPECT_THAT(error("values=3"), HasSubstr("values: a repeated field"));
  EXPECT_THAT(error("weights=3"), HasSubstr("weights: a repeated field"));
  EXPECT_THAT(error("count"), HasSubstr("expected FIELD.PATH=VALUE"));
  EXPECT_THAT(error("=3"), HasSubstr("expected FIELD.PATH=VALUE"));
  EXPECT_EQ(message.SerializeAsString(), before);
}

}  // namespace
}  // namespace vit_moe
