// Every shipped config parses, takes its defaults and validates.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "pipeline/config.h"

namespace vit_moe::pipeline {
namespace {

TEST(ShippedConfigsTest, ParseAndValidate) {
  for (const char* name : {"seed", "gtsrb_gpu", "cifar10_gpu",
                           "fashion_mnist_cpu", "fashion_mnist_ci"}) {
    std::string path = absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                                    std::getenv("TEST_WORKSPACE"),
                                    "/pipeline/configs/", name, ".textproto");
    absl::StatusOr<TrainConfig> config = ReadTrainConfig(path);
    ASSERT_TRUE(config.ok()) << config.status();
    FillTrainDefaults(&*config);
    EXPECT_TRUE(ValidateTrainConfig(*config, path).ok()) << name;
    EXPECT_FALSE(config->model().preset().empty()) << name;
  }
}

}  // namespace
}  // namespace vit_moe::pipeline
