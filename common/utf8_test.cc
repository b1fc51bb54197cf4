#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace vit_moe {
namespace {

TEST(Utf8Test, AcceptsAsciiAndMultiByteText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Speed limit (30km/h)"));
  EXPECT_TRUE(
      IsValidUtf8("Stra\xC3\x9F"
                  "e"));                             // ß
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));          // €
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x9A\xA6"));      // U+1F6A6
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is UTF-8
}

TEST(Utf8Test, RefusesMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("d\xFFog"));           // Latin-1 ÿ
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));           // Latin-1 é
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // lead byte F5
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));      // bad continuation
}

TEST(Utf8Test, CheckNamesTheTextAndTheByte) {
  EXPECT_TRUE(CheckUtf8("ok", "class folder").ok());
  const absl::Status status = CheckUtf8("train/d\xFFog", "class folder");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("class folder \"train/d\\xffog\""),
            std::string::npos)
      << status;
  EXPECT_NE(status.message().find("byte 0xFF at offset 7"), std::string::npos)
      << status;
}

}  // namespace
}  // namespace vit_moe
