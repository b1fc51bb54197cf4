#include "common/command_line.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, test_count, 3, "A count for the parser test.");
ABSL_FLAG(bool, test_switch, false, "A switch for the parser test.");
ABSL_FLAG(std::optional<double>, test_rate, std::nullopt,
          "An optional rate for the parser test.");
ABSL_FLAG(std::vector<std::string>, test_list, {},
          "A repeatable list for the parser test.");

namespace vit_moe {
namespace {

// argv as a process gets it, from strings the test owns.
absl::StatusOr<CommandLine> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "program");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

class ParseFlagsTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;
};

TEST_F(ParseFlagsTest, SetsFlagsInEveryForm) {
  absl::StatusOr<CommandLine> line =
      Parse({"--test_count=7", "a", "-test_rate", "0.5", "--test_switch", "b"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_rate), 0.5);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_switch));
  EXPECT_EQ(line->arguments, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(line->help);

  ASSERT_TRUE(Parse({"--notest_switch"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_switch));
  ASSERT_TRUE(Parse({"--test_switch=true", "--test_rate="}).ok());
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_switch));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_rate), std::nullopt);
}

TEST_F(ParseFlagsTest, DoubleDashEndsTheFlags) {
  absl::StatusOr<CommandLine> line =
      Parse({"--test_count=1", "--", "--test_count=9", "-x"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1);
  EXPECT_EQ(line->arguments,
            (std::vector<std::string>{"--test_count=9", "-x"}));
}

TEST_F(ParseFlagsTest, RefusesUnknownFlagsAndBadValuesByName) {
  absl::StatusOr<CommandLine> unknown = Parse({"--test_cuont=1"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("unknown flag --test_cuont"),
            std::string::npos)
      << unknown.status();

  absl::StatusOr<CommandLine> bad = Parse({"--test_count=abc"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--test_count=abc"), std::string::npos)
      << bad.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 3);

  EXPECT_FALSE(Parse({"--test_count"}).ok()) << "value missing";
  EXPECT_FALSE(Parse({"--notest_count"}).ok()) << "not a boolean";
  EXPECT_FALSE(Parse({"--test_switch=maybe"}).ok());
}

TEST_F(ParseFlagsTest, RecognisesHelp) {
  for (const char* help : {"--help", "-help", "--helpfull", "-h"}) {
    absl::StatusOr<CommandLine> line = Parse({help});
    ASSERT_TRUE(line.ok()) << help;
    EXPECT_TRUE(line->help) << help;
  }
}

TEST_F(ParseFlagsTest, ListFlagsAccumulateInOrder) {
  absl::StatusOr<CommandLine> line = Parse(
      {"--test_list=a=1", "x", "--test_list", "b=2,c=3", "--test_list=d"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_list),
            (std::vector<std::string>{"a=1", "b=2", "c=3", "d"}));
  EXPECT_EQ(line->arguments, (std::vector<std::string>{"x"}));
}

TEST(HelpTextTest, ListsProjectFlagsWithDefaultsNotAbseils) {
  const std::string text = HelpText("usage: program --test_count=N");
  EXPECT_EQ(text.rfind("usage: program --test_count=N", 0), 0u);
  EXPECT_NE(text.find("--test_count  A count for the parser test. "
                      "(default: 3)"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("--flagfile"), std::string::npos) << text;
}

}  // namespace
}  // namespace vit_moe
