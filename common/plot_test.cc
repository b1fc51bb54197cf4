#include "common/plot.h"

#include <dirent.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "gtest/gtest.h"

namespace vit_moe {
namespace {

// Figures go where Bazel keeps undeclared test outputs (outputs.zip), so a
// person can look at them; elsewhere to the test's temporary folder.
std::string OutDir() {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return dir != nullptr ? dir : ::testing::TempDir();
}

struct PngInfo {
  size_t bytes = 0;
  int width = 0, height = 0;
};

// Checks the signature and reads the size from the IHDR chunk.
PngInfo ReadPng(const std::string& path) {
  auto bytes = ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  PngInfo info;
  if (!bytes.ok() || bytes->size() < 24) return info;
  EXPECT_EQ(bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes->substr(12, 4), "IHDR");
  auto be32 = [&](size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes->data() + at);
    return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
  };
  info.bytes = bytes->size();
  info.width = be32(16);
  info.height = be32(20);
  return info;
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

TEST(PlotTest, LinesTwiceInOneProcessWithoutStdoutChatter) {
  std::vector<Series> series = {{"train loss", {}, {}},
                                {"validation loss", {}, {}}};
  for (int i = 0; i < 20; ++i) {
    series[0].x.push_back(i);
    series[0].y.push_back(2.0 * std::exp(-0.2 * i));
    series[1].x.push_back(i);
    series[1].y.push_back(2.2 * std::exp(-0.15 * i) + 0.1);
  }
  const std::string dir = OutDir() + "/lines";
  ::testing::internal::CaptureStdout();
  ASSERT_TRUE(
      PlotLines(dir + "/first.png", "Loss #1", "epoch", "loss", series).ok());
  series[1].y[5] = NAN;  // a diverged point breaks the line, no error
  LineOptions fixed;
  fixed.y_min = 0.0;
  fixed.y_max = 2.5;
  fixed.markers = true;
  ASSERT_TRUE(
      PlotLines(dir + "/second.png", "Loss", "epoch", "loss", series, fixed)
          .ok());
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  for (const char* name : {"/first.png", "/second.png"}) {
    const PngInfo png = ReadPng(dir + name);
    EXPECT_EQ(png.width, 1000);
    EXPECT_EQ(png.height, 640);
    EXPECT_GT(png.bytes, 5000u);
    EXPECT_LT(png.bytes, 2000000u);
  }
  // Temporaries were renamed away.
  EXPECT_EQ(FilesIn(dir).size(), 2u);
}

TEST(PlotTest, OverwritesAnExistingFigure) {
  const std::string path = ::testing::TempDir() + "/overwrite/curve.png";
  ASSERT_TRUE(WriteFileAtomically(path, "old contents").ok());
  ASSERT_TRUE(PlotLines(path, "t", "x", "y", {{"", {0, 1}, {0, 1}}}).ok());
  EXPECT_GT(ReadPng(path).bytes, 1000u);
}

TEST(PlotTest, RejectsMismatchedInputsAndLeavesNoFile) {
  const std::string dir = ::testing::TempDir() + "/rejected";
  absl::Status status =
      PlotLines(dir + "/bad.png", "t", "x", "y", {{"s", {0, 1, 2}, {0, 1}}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bad.png"), std::string::npos);
  EXPECT_EQ(
      PlotHeatmap(dir + "/bad2.png", "t", {{1, 2}, {3, 4}}, {"a"}, {"x", "y"})
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PlotBars(dir + "/bad3.png", "t", "y", {"a", "b"}, {{"s", {1}}}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PlotReliability(dir + "/bad4.png", "t", {{0.5, 0.4, 1, 1, 3}}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(FilesIn(dir).empty());
}

TEST(PlotTest, HeatmapWithClassNames) {
  const std::vector<std::string> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot #9"};
  std::vector<std::vector<double>> confusion(10, std::vector<double>(10));
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c) confusion[r][c] = r == c ? 90 : (r + c) % 4;
  }
  const std::string path = OutDir() + "/heatmap/confusion.png";
  HeatmapOptions options;
  options.x_label = "predicted";
  options.y_label = "true";
  options.value_format = "%.0f";
  ASSERT_TRUE(
      PlotHeatmap(path, "Confusion matrix", confusion, names, names, options)
          .ok());
  const PngInfo png = ReadPng(path);
  EXPECT_GT(png.bytes, 10000u);
  EXPECT_EQ(png.width, png.height + 100);

  // 43 classes: no annotations, labels shrink; still a valid figure.
  std::vector<std::string> many;
  std::vector<std::vector<double>> grid(43, std::vector<double>(7));
  for (int r = 0; r < 43; ++r) {
    many.push_back("class " + std::to_string(r));
    for (int c = 0; c < 7; ++c) grid[r][c] = (r * 7 + c) % 11 / 10.0;
  }
  ASSERT_TRUE(PlotHeatmap(OutDir() + "/heatmap/wide.png", "Experts", grid, many,
                          {"e0", "e1", "e2", "e3", "e4", "e5", "e6"})
                  .ok());
}

TEST(PlotTest, BarsAndReliability) {
  const std::string dir = OutDir() + "/bars";
  LineOptions up_to_one;
  up_to_one.y_max = 1.0;
  ASSERT_TRUE(PlotBars(dir + "/bars.png", "Accuracy by severity", "accuracy",
                       {"1", "2", "3", "4", "5"},
                       {{"gaussian_noise", {0.9, 0.8, 0.7, 0.5, 0.3}},
                        {"fog", {0.85, 0.8, 0.75, 0.7, 0.6}}},
                       up_to_one)
                  .ok());
  EXPECT_GT(ReadPng(dir + "/bars.png").bytes, 5000u);
  std::vector<ReliabilityBar> bins;
  for (int i = 0; i < 15; ++i) {
    const double lo = i / 15.0, hi = (i + 1) / 15.0;
    bins.push_back({lo, hi, std::max(0.0, (lo + hi) / 2 - 0.1), (lo + hi) / 2,
                    i < 3 ? 0 : 10 * i});
  }
  ASSERT_TRUE(
      PlotReliability(dir + "/reliability.png", "Reliability", bins).ok());
  const PngInfo png = ReadPng(dir + "/reliability.png");
  EXPECT_EQ(png.width, 900);
  EXPECT_GT(png.bytes, 5000u);
}

}  // namespace
}  // namespace vit_moe
