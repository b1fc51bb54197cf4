#include "common/startup.h"

#include <sched.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

TEST(StartupTest, ThreadsAreBoundedByTheCoresThisProcessMayUse) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  EXPECT_EQ(CoreCount(), CPU_COUNT(&allowed));
  EXPECT_EQ(ConfigureThreads(0), CoreCount());
  EXPECT_EQ(torch::get_num_threads(), CoreCount());
  EXPECT_EQ(ConfigureThreads(1), 1);
  EXPECT_EQ(ConfigureThreads(CoreCount() + 5), CoreCount());
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

TEST(StartupTest, UserErrorsExitWithTwoAndFailedChecksWithOne) {
  EXPECT_EQ(ReportError(absl::InvalidArgumentError("cfg: bad field")),
            kExitUserError);
  EXPECT_EQ(ReportError(absl::NotFoundError("x")), kExitUserError);
  EXPECT_EQ(ReportError(absl::InternalError("x")), kExitUserError);
  EXPECT_EQ(ReportError(absl::AbortedError("diverged")), kExitFailure);
}

// RunStage on a command line the test owns; the flags it sets are restored.
int RunWith(std::vector<std::string> args, const StageBody& body) {
  absl::FlagSaver saver;
  args.insert(args.begin(), "stage");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return RunStage(static_cast<int>(argv.size()), argv.data(), "usage", body);
}

TEST(RunStageTest, ExceptionsBecomeOneErrorLineAndExitTwo) {
  testing::internal::CaptureStderr();
  const int code =
      RunWith({}, [](const std::vector<std::string>&) -> absl::StatusOr<int> {
        return torch::zeros({2, 3}).matmul(torch::zeros({2, 3})).size(0);
      });
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, kExitUserError);
  EXPECT_EQ(err.rfind("error: LibTorch: ", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
  EXPECT_EQ(err.find("frame #"), std::string::npos) << "no backtrace";

  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({},
                    [](const std::vector<std::string>&) -> absl::StatusOr<int> {
                      throw std::runtime_error("disk on fire");
                    }),
            kExitUserError);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "error: disk on fire\n");
}

TEST(RunStageTest, PassesArgumentsAndTheStagesOwnExitStatus) {
  std::vector<std::string> seen;
  EXPECT_EQ(RunWith({"a", "b"},
                    [&](const std::vector<std::string>& arguments)
                        -> absl::StatusOr<int> {
                      seen = arguments;
                      return 3;
                    }),
            3);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(RunStageTest, BadFlagsAndNegativeThreadsExitTwoBeforeTheBody) {
  bool ran = false;
  auto body = [&](const std::vector<std::string>&) -> absl::StatusOr<int> {
    ran = true;
    return 0;
  };
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWith({"--no_such_flag=1"}, body), kExitUserError);
  EXPECT_EQ(RunWith({"--threads=-2"}, body), kExitUserError);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("error: unknown flag --no_such_flag"), std::string::npos)
      << err;
  EXPECT_NE(err.find("error: --threads=-2"), std::string::npos) << err;
  EXPECT_FALSE(ran);
}

TEST(RunStageTest, StagesWithoutArgumentsRefuseThem) {
  bool ran = false;
  std::vector<std::string> args = {"stage", "stray"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  absl::FlagSaver saver;
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunStage(2, argv.data(), "usage",
                     [&]() -> absl::Status {
                       ran = true;
                       return absl::OkStatus();
                     }),
            kExitUserError);
  EXPECT_NE(testing::internal::GetCapturedStderr().find(
                "unexpected argument 'stray'"),
            std::string::npos);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace vit_moe
