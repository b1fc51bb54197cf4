#include "common/proto_io.h"

#include "common/atomic_file.h"
#include "common/test_message.pb.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

using ::vit_moe::testing::TestMessage;

TEST(ProtoIoTest, TextRoundTrip) {
  std::string path = ::testing::TempDir() + "/message.textproto";
  TestMessage message;
  message.set_name("seed");
  message.set_count(7);
  ASSERT_TRUE(WriteTextProto(path, message).ok());
  TestMessage read;
  ASSERT_TRUE(ReadTextProto(path, &read).ok());
  EXPECT_EQ(read.name(), "seed");
  EXPECT_EQ(read.count(), 7);
}

TEST(ProtoIoTest, TextErrorNamesFileLineAndField) {
  std::string path = ::testing::TempDir() + "/bad.textproto";
  ASSERT_TRUE(WriteFileAtomically(path, "name: \"ok\"\n\ncolour: 3\n").ok());
  TestMessage read;
  absl::Status status = ReadTextProto(path, &read);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path + ":3:"), std::string::npos) << status;
  EXPECT_NE(status.message().find("colour"), std::string::npos) << status;
}

TEST(ProtoIoTest, TextErrorForBadValueNamesLine) {
  TestMessage read;
  absl::Status status =
      ParseTextProto("count: 1\ncount: \"x\"\n", "cfg", &read);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("cfg:2:", 0), 0u) << status;
}

TEST(ProtoIoTest, BinaryIsDeterministicWithMaps) {
  TestMessage a;
  TestMessage b;
  for (int i = 0; i < 50; ++i)
    a.mutable_weights()->insert({std::to_string(i), i});
  for (int i = 49; i >= 0; --i)
    b.mutable_weights()->insert({std::to_string(i), i});
  EXPECT_EQ(SerializeDeterministic(a), SerializeDeterministic(b));

  std::string path = ::testing::TempDir() + "/message.pb";
  ASSERT_TRUE(WriteBinaryProto(path, a).ok());
  TestMessage read;
  ASSERT_TRUE(ReadBinaryProto(path, &read).ok());
  EXPECT_EQ(read.weights().size(), 50u);
}

TEST(ProtoIoTest, BinaryGarbageIsDataLoss) {
  std::string path = ::testing::TempDir() + "/garbage.pb";
  ASSERT_TRUE(WriteFileAtomically(path, "\xff\xff\xff").ok());
  TestMessage read;
  absl::Status status = ReadBinaryProto(path, &read);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(path), std::string::npos);
}

TEST(ProtoIoTest, AnEmptyFileIsDataLossNamingTheExpectedType) {
  std::string path = ::testing::TempDir() + "/empty.pb";
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  TestMessage read;
  absl::Status status = ReadBinaryProto(path, &read);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(path + ": empty file, expected a binary "),
            std::string::npos)
      << status;
  EXPECT_NE(status.message().find("TestMessage"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe
