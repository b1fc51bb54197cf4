#include "pipeline/curves.h"

#include <gtest/gtest.h>

#include <string>

#include "common/atomic_file.h"

namespace vit_moe::pipeline {
namespace {

TEST(CurvesTest, WritesEveryFigureIncludingRouting) {
  TrainingRun run;
  for (int epoch = 1; epoch <= 2; ++epoch) {
    EpochMetrics* m = run.add_epochs();
    m->set_epoch(epoch);
    m->set_train_loss(1.0 / epoch);
    m->set_balance_loss(1.1);
    m->set_has_validation(epoch == 2);
    m->set_validation_balance_loss(1.2);
    for (int layer = 0; layer < 2; ++layer) {
      LayerExpertLoad* load = m->add_expert_load();
      load->set_layer(layer);
      load->set_router_entropy(1.3 - 0.1 * epoch);
      load->set_load_imbalance(1.0 + 0.2 * epoch);
    }
  }
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(WriteCurves(dir, run).ok());
  for (const char* png :
       {"loss.png", "accuracy.png", "balance_loss.png", "routing.png"}) {
    absl::StatusOr<std::string> bytes = ReadFile(dir + "/" + png);
    ASSERT_TRUE(bytes.ok()) << png;
    EXPECT_EQ(bytes->substr(1, 3), "PNG") << png;
  }
}

}  // namespace
}  // namespace vit_moe::pipeline
