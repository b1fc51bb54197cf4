#include "data/user_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(CheckOutputApartFromInputsTest, RefusesTheInputItselfOrAPathInsideIt) {
  const fs::path root = fs::path(::testing::TempDir()) / "user_path_test";
  fs::create_directories(root / "store");
  std::ofstream(root / "store" / "manifest.pb") << "m";
  const std::string manifest = (root / "store" / "manifest.pb").string();

  absl::Status same =
      CheckOutputApartFromInputs("out", manifest, {{"manifest", manifest}});
  ASSERT_EQ(same.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(same.message(),
              HasSubstr("--out=" + manifest + " is --manifest="));

  // The same file by another spelling.
  absl::Status spelled = CheckOutputApartFromInputs(
      "out", (root / "store" / "." / "manifest.pb").string(),
      {{"manifest", manifest}});
  EXPECT_FALSE(spelled.ok());

  absl::Status inside = CheckOutputApartFromInputs(
      "out_dir", (root / "store" / "new").string(),
      {{"model", ""}, {"from", (root / "store").string()}});
  ASSERT_FALSE(inside.ok());
  EXPECT_THAT(inside.message(), HasSubstr("lies inside --from="));

  // Beside the input, or a folder whose name merely starts like it: fine.
  EXPECT_TRUE(CheckOutputApartFromInputs(
                  "out", (root / "store" / "normalization.pb").string(),
                  {{"manifest", manifest}})
                  .ok());
  EXPECT_TRUE(CheckOutputApartFromInputs("out_dir",
                                         (root / "store_again").string(),
                                         {{"from", (root / "store").string()}})
                  .ok());
}

}  // namespace
}  // namespace vit_moe::data
