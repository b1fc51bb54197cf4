#include "pipeline/distributed/world.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace vit_moe::distributed {
namespace {

class WorldTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
      unsetenv(name);
    }
  }
};

TEST_F(WorldTest, NoEnvironmentMeansSingleProcess) {
  auto world = WorldInfoFromEnvironment();
  ASSERT_TRUE(world.ok());
  EXPECT_EQ(world->rank, 0);
  EXPECT_EQ(world->world_size, 1);
  EXPECT_FALSE(world->is_distributed());
}

TEST_F(WorldTest, ReadsTorchrunVariables) {
  setenv("RANK", "3", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "node0", 1);
  setenv("MASTER_PORT", "1234", 1);
  auto world = WorldInfoFromEnvironment();
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->rank, 3);
  EXPECT_EQ(world->world_size, 4);
  EXPECT_EQ(world->local_rank, 1);
  EXPECT_EQ(world->master_addr, "node0");
  EXPECT_EQ(world->master_port, 1234);
}

TEST_F(WorldTest, RejectsInconsistentValuesNamingTheVariable) {
  setenv("RANK", "2", 1);
  setenv("WORLD_SIZE", "2", 1);
  auto world = WorldInfoFromEnvironment();
  ASSERT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(world.status().message().find("WORLD_SIZE"), std::string::npos);

  setenv("RANK", "zero", 1);
  world = WorldInfoFromEnvironment();
  ASSERT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(world.status().message().find("RANK"), std::string::npos);
}

}  // namespace
}  // namespace vit_moe::distributed
