#include "common/startup.h"

#include <torch/torch.h>

#include <thread>

#include "gtest/gtest.h"

namespace vit_moe {
namespace {

TEST(StartupTest, DefaultThreadsEqualCoreCount) {
  EXPECT_EQ(CoreCount(), static_cast<int>(std::max(
                             1u, std::thread::hardware_concurrency())));
  EXPECT_EQ(ConfigureThreads(0), CoreCount());
  EXPECT_EQ(torch::get_num_threads(), CoreCount());
  EXPECT_EQ(ConfigureThreads(1), 1);
  EXPECT_EQ(ConfigureThreads(0), CoreCount());
}

TEST(StartupTest, OptimizedBlasIsLoaded) {
  // ci/setup.sh installs libopenblas0-openmp; without it LibTorch falls back
  // to the reference BLAS and every stage is an order of magnitude slower.
  EXPECT_TRUE(UsingOptimizedBlas());
}

TEST(StartupTest, BinariesAllocateWithTcmalloc) {
  EXPECT_TRUE(UsingTcmalloc());
}

TEST(StartupTest, UserErrorsExitWithTwo) {
  EXPECT_EQ(ReportError(absl::InvalidArgumentError("cfg: bad field")),
            kExitUserError);
  EXPECT_EQ(ReportError(absl::NotFoundError("x")), kExitUserError);
  EXPECT_EQ(ReportError(absl::InternalError("x")), kExitFailure);
}

}  // namespace
}  // namespace vit_moe
