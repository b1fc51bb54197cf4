#include "eval/corruptions.h"

#include <ATen/CPUGeneratorImpl.h>

#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

// Smooth random shading plus hard-edged shapes: edges for the blurs to smear
// and pixelation to lose, mid-range values for noise and contrast to move.
// uint8 [B, C, size, size].
torch::Tensor TestImages(int64_t batch, int64_t channels, int64_t size) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  auto smooth = [&](int64_t grid) {
    const torch::Tensor coarse =
        torch::rand({batch, channels, grid, grid}, gen, torch::kFloat64);
    return torch::nn::functional::interpolate(
        coarse, torch::nn::functional::InterpolateFuncOptions()
                    .size(std::vector<int64_t>{size, size})
                    .mode(torch::kBilinear)
                    .align_corners(true));
  };
  const torch::Tensor shapes = (smooth(6) > 0.5).to(torch::kFloat64);
  const torch::Tensor x = 0.1 + 0.4 * smooth(4) + 0.4 * shapes;
  return (x.clamp(0, 1) * 255).round().to(torch::kUInt8);
}

double MeanAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64))
      .abs()
      .mean()
      .item<double>();
}

TEST(CorruptionsTest, NamesRoundTrip) {
  EXPECT_EQ(AllCorruptions().size(), 10u);
  for (Corruption c : AllCorruptions()) {
    auto parsed = ParseCorruption(CorruptionName(c));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, c);
  }
  const auto bad = ParseCorruption("snow");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gaussian_noise"), std::string::npos);
}

TEST(CorruptionsTest, DeterministicBySeedAndIndependentOfTheBatch) {
  const torch::Tensor images = TestImages(4, 3, 32);
  const torch::Tensor indices = torch::tensor({10, 11, 12, 13}, torch::kInt64);
  for (Corruption c : AllCorruptions()) {
    SCOPED_TRACE(CorruptionName(c));
    const torch::Tensor a = Corrupt(images, indices, c, 3, /*seed=*/1);
    EXPECT_EQ(a.sizes(), images.sizes());
    EXPECT_EQ(a.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(torch::equal(a, Corrupt(images, indices, c, 3, 1)));
    // Image 2 alone gets what it got inside the batch.
    EXPECT_TRUE(torch::equal(
        a.slice(0, 2, 3),
        Corrupt(images.slice(0, 2, 3), indices.slice(0, 2, 3), c, 3, 1)));
  }
  // Random corruptions change with the seed.
  for (Corruption c :
       {Corruption::kGaussianNoise, Corruption::kShotNoise,
        Corruption::kImpulseNoise, Corruption::kFog, Corruption::kMotionBlur}) {
    SCOPED_TRACE(CorruptionName(c));
    EXPECT_FALSE(torch::equal(Corrupt(images, indices, c, 3, 1),
                              Corrupt(images, indices, c, 3, 2)));
  }
}

TEST(CorruptionsTest, DistanceGrowsWithSeverity) {
  for (int64_t channels : {1, 3}) {
    const int64_t size = channels == 1 ? 28 : 32;
    const torch::Tensor images = TestImages(6, channels, size);
    const torch::Tensor indices = torch::arange(6, torch::kInt64);
    for (Corruption c : AllCorruptions()) {
      SCOPED_TRACE(CorruptionName(c) + " channels=" + std::to_string(channels));
      double previous = 0;
      for (int s = 1; s <= kMaxSeverity; ++s) {
        const double d =
            MeanAbsDifference(Corrupt(images, indices, c, s, 5), images);
        EXPECT_GT(d, previous) << "severity " << s;
        previous = d;
      }
    }
  }
}

}  // namespace
}  // namespace vit_moe::eval
