#include "pipeline/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vit_moe::pipeline {
namespace {

StepProgress At(int64_t step) {
  StepProgress p;
  p.epoch = 2;
  p.epochs = 5;
  p.step_in_epoch = step;
  p.steps_per_epoch = 4;
  p.loss = 0.5;
  p.accuracy = 0.75;
  p.images_per_second = 100;
  p.eta_seconds = 3725;
  return p;
}

TEST(ProgressTest, FormatsEveryField) {
  EXPECT_EQ(FormatProgress(At(3)),
            "epoch 2/5 step 3/4 loss 0.5000 acc 75.00% 100.0 img/s ETA "
            "1h02m05s");
  EXPECT_EQ(FormatDuration(59.6), "1m00s");
  EXPECT_EQ(FormatDuration(-1), "0s");
}

TEST(ProgressTest, PlainOutputLogsEveryNthStepAsLines) {
  std::ostringstream out;
  {
    ProgressReporter reporter(out, /*live=*/false, /*log_every_steps=*/2);
    for (int64_t step = 1; step <= 4; ++step) reporter.Step(At(step));
    reporter.Line("epoch 2 done");
  }
  std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("step 2/4"), std::string::npos);
  EXPECT_EQ(text.find("step 3/4"), std::string::npos);
  EXPECT_NE(text.find("epoch 2 done\n"), std::string::npos);
}

TEST(ProgressTest, LiveOutputRewritesOneLine) {
  std::ostringstream out;
  {
    ProgressReporter reporter(out, /*live=*/true, 2);
    reporter.Step(At(1));
    reporter.Step(At(2));
    reporter.Line("summary");
  }
  std::string text = out.str();
  EXPECT_EQ(text.rfind("\rsummary\n"), text.size() - 9);
  EXPECT_NE(text.find("\repoch 2/5 step 2/4"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

}  // namespace
}  // namespace vit_moe::pipeline
