#include "augment/preview.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "augment/preview_sources.h"

namespace vit_moe::augment {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// Header of an IDX image file: magic, count, rows, cols, big-endian.
std::string IdxHeader(uint32_t magic, uint32_t count, uint32_t rows,
                      uint32_t cols) {
  std::string header;
  for (uint32_t value : {magic, count, rows, cols}) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      header.push_back(static_cast<char>((value >> shift) & 0xFF));
    }
  }
  return header;
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

TEST(PreviewSourcesTest, ReadsPlainAndGzippedIdx) {
  std::string pixels(2 * 3 * 4, '\0');
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<char>(i * 10);
  std::string contents = IdxHeader(0x803, 2, 3, 4) + pixels;
  std::string plain = TempPath("images.idx");
  std::ofstream(plain, std::ios::binary) << contents;
  std::string zipped = TempPath("images.idx.gz");
  gzFile file = gzopen(zipped.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  gzwrite(file, contents.data(), static_cast<unsigned>(contents.size()));
  gzclose(file);
  for (const std::string& path : {plain, zipped}) {
    absl::StatusOr<torch::Tensor> images = ReadIdxImages(path);
    ASSERT_TRUE(images.ok()) << images.status();
    EXPECT_EQ(images->sizes(), (std::vector<int64_t>{2, 1, 3, 4}));
    EXPECT_EQ(images->index({1, 0, 2, 3}).item<int>(), 230);
  }
}

TEST(PreviewSourcesTest, RejectsWrongMagicAndTruncatedFiles) {
  std::string labels = TempPath("labels.idx");
  std::ofstream(labels, std::ios::binary) << IdxHeader(0x801, 1, 1, 1) << 'x';
  absl::Status status = ReadIdxImages(labels).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(labels), std::string::npos);

  std::string truncated = TempPath("truncated.idx");
  std::ofstream(truncated, std::ios::binary)
      << IdxHeader(0x803, 2, 2, 2) << "abc";
  EXPECT_EQ(ReadIdxImages(truncated).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadIdxImages(TempPath("missing.idx")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace vit_moe::augment
