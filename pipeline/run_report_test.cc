#include "pipeline/run_report.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"

namespace vit_moe::pipeline {
namespace {

// Two epochs of a two-MoE-layer run; only the second is evaluated.
TrainingRun TwoEpochs() {
  TrainingRun run;
  for (int epoch = 1; epoch <= 2; ++epoch) {
    EpochMetrics* m = run.add_epochs();
    m->set_epoch(epoch);
    m->set_train_loss(2.0 / epoch);
    m->set_train_accuracy(0.3 * epoch);
    m->set_balance_loss(1.05);
    for (int layer = 0; layer < 2; ++layer) {
      LayerExpertLoad* load = m->add_expert_load();
      load->set_layer(layer);
      for (double share : {0.5, 0.25, 0.125, 0.125}) load->add_share(share);
      load->set_dropped_slot_fraction(0.01 * epoch + layer);
      load->set_router_entropy(1.25 + layer);
      load->set_z_loss(3.5 + layer);
      load->set_load_imbalance(2.0 + layer);
    }
  }
  EpochMetrics* evaluated = run.mutable_epochs(1);
  evaluated->set_has_validation(true);
  evaluated->set_validation_loss(0.75);
  evaluated->set_validation_accuracy(0.8);
  evaluated->set_validation_balance_loss(1.125);
  return run;
}

// metrics.csv as rows of column name -> cell.
std::vector<std::map<std::string, std::string>> Rows(const std::string& csv) {
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i], ',');
    EXPECT_EQ(cells.size(), header.size()) << lines[i];
    auto& row = rows.emplace_back();
    for (size_t c = 0; c < header.size() && c < cells.size(); ++c) {
      row[header[c]] = cells[c];
    }
  }
  return rows;
}

TEST(MetricsCsvTest, HasRoutingDiagnosticsPerLayerAndValidationBalance) {
  const auto rows = Rows(MetricsCsv(TwoEpochs()));
  ASSERT_EQ(rows.size(), 2u);
  const auto& first = rows[0];
  const auto& second = rows[1];
  EXPECT_EQ(first.at("validation_balance_loss"), "");
  EXPECT_EQ(first.at("validation_loss"), "");
  EXPECT_EQ(second.at("validation_balance_loss"), "1.125");
  EXPECT_EQ(second.at("validation_loss"), "0.75");
  EXPECT_EQ(first.at("layer0_dropped"), "0.01");
  EXPECT_EQ(second.at("layer0_dropped"), "0.02");
  EXPECT_EQ(second.at("layer1_dropped"), "1.02");
  EXPECT_EQ(first.at("layer0_entropy"), "1.25");
  EXPECT_EQ(first.at("layer1_entropy"), "2.25");
  EXPECT_EQ(first.at("layer0_z_loss"), "3.5");
  EXPECT_EQ(first.at("layer1_z_loss"), "4.5");
  EXPECT_EQ(first.at("layer0_imbalance"), "2");
  EXPECT_EQ(first.at("layer1_imbalance"), "3");
  EXPECT_EQ(first.count("layer2_dropped"), 0u);
}

}  // namespace
}  // namespace vit_moe::pipeline
