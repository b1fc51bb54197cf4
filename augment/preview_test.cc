#include "augment/preview.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "augment/preview_sources.h"
#include "data/pack.h"
#include "data/split.h"

namespace vit_moe::augment {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TEST(PreviewTest, FirstColumnHoldsTheMagnifiedOriginals) {
  AugmentConfig config;
  config.set_preset("seed");
  absl::StatusOr<Augmenter> augmenter =
      Augmenter::Create(config, data::FASHION_MNIST);
  ASSERT_TRUE(augmenter.ok());
  torch::Tensor images = PatternImages(3);  // [3, 3, 32, 32]
  PreviewOptions options;
  options.versions = 2;
  options.scale = 2;
  torch::Tensor grid = BuildPreviewGrid(
      *augmenter, images, torch::arange(3, torch::kInt64), options);
  // 3 rows of 64 px + 4 gaps of 2; 3 columns of 64 px + 4 gaps + separator 8.
  EXPECT_EQ(grid.sizes(), (std::vector<int64_t>{200, 208, 3}));
  for (int64_t row = 0; row < 3; ++row) {
    int64_t y = 2 + row * 66;
    torch::Tensor cell =
        grid.slice(0, y, y + 64).slice(1, 2, 66);  // [64, 64, 3]
    torch::Tensor expected =
        images[row].repeat_interleave(2, 1).repeat_interleave(2, 2).permute(
            {1, 2, 0});
    EXPECT_TRUE(torch::equal(cell, expected)) << row;
  }
  EXPECT_TRUE(WritePng(TempPath("grid.png"), grid).ok());
}

TEST(PreviewSourcesTest, LoadsAStoreSplitAsCHW) {
  // Four 2x3 RGB images whose pixel value is 100 * image + 10 * y + x + c.
  data::ConvertedDataset converted;
  converted.dataset = data::CIFAR10;
  converted.class_names = {"a", "b"};
  converted.height = 2;
  converted.width = 3;
  converted.channels = 3;
  converted.resize_method = "none";
  for (int n = 0; n < 4; ++n) {
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 3; ++x) {
        for (int c = 0; c < 3; ++c) {
          converted.train.pixels.push_back(
              static_cast<uint8_t>(50 * n + 10 * y + 3 * x + c));
        }
      }
    }
    converted.train.labels.push_back(static_cast<uint8_t>(n % 2));
  }
  converted.test = converted.train;
  data::SplitIndices split;
  split.train = {0, 1, 2, 3};
  std::string dir = TempPath("store");
  ASSERT_TRUE(
      data::WriteStore(dir, converted, split, data::SplitRule(), {}).ok());

  absl::StatusOr<PreviewImages> loaded =
      LoadStoreImages(dir + "/manifest.pb", "train", 1, 2);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->dataset, data::CIFAR10);
  EXPECT_EQ(loaded->images.sizes(), (std::vector<int64_t>{2, 3, 2, 3}));
  EXPECT_TRUE(
      torch::equal(loaded->indices, torch::tensor({1, 2}, torch::kInt64)));
  // Image 2, channel 1, y 1, x 2.
  EXPECT_EQ(loaded->images.index({1, 1, 1, 2}).item<int>(), 100 + 10 + 6 + 1);

  absl::Status status =
      LoadStoreImages(dir + "/manifest.pb", "train", 3, 2).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("manifest.pb"), std::string::npos) << status;
  EXPECT_EQ(
      LoadStoreImages(dir + "/manifest.pb", "extra", 0, 1).status().code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vit_moe::augment
