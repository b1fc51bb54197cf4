#include "augment/augmenter.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace vit_moe::augment {
namespace {

Augmenter Make(const AugmentConfig& config,
               data::DatasetName dataset = data::CIFAR10) {
  absl::StatusOr<Augmenter> augmenter = Augmenter::Create(config, dataset);
  EXPECT_TRUE(augmenter.ok()) << augmenter.status();
  return *std::move(augmenter);
}

AugmentConfig Preset(const std::string& name) {
  AugmentConfig config;
  config.set_preset(name);
  return config;
}

torch::Tensor RandomImages(int64_t b, int64_t c, int64_t h, int64_t w) {
  torch::manual_seed(3);
  return torch::randint(0, 256, {b, c, h, w}, torch::kUInt8);  // [B, C, H, W]
}

class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(at::get_num_threads()) {}
  ~ThreadCountGuard() { at::set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(AugmenterTest, SameSeedGivesIdenticalBytesWithOneAndTwoThreads) {
  ThreadCountGuard guard;
  Augmenter augmenter = Make(Preset("seed"));
  torch::Tensor images = RandomImages(40, 3, 32, 32);
  torch::Tensor indices = torch::arange(1000, 1040, torch::kInt64);
  torch::Tensor normalized = torch::randn({40, 3, 32, 32});

  at::set_num_threads(1);
  torch::Tensor one = augmenter.AugmentImages(images, indices, 17, 4);
  torch::Tensor erased_one = augmenter.EraseImages(normalized, indices, 17, 4);
  at::set_num_threads(2);
  torch::Tensor two = augmenter.AugmentImages(images, indices, 17, 4);
  torch::Tensor erased_two = augmenter.EraseImages(normalized, indices, 17, 4);

  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_TRUE(torch::equal(erased_one, erased_two));
  EXPECT_FALSE(torch::equal(one, images));
  EXPECT_FALSE(torch::equal(erased_one, normalized));
  EXPECT_FALSE(
      torch::equal(one, augmenter.AugmentImages(images, indices, 17, 5)));
  EXPECT_FALSE(
      torch::equal(one, augmenter.AugmentImages(images, indices, 18, 4)));
}

TEST(AugmenterTest, SampleOutputDoesNotDependOnBatchComposition) {
  Augmenter augmenter = Make(Preset("seed"), data::FASHION_MNIST);
  torch::Tensor images = RandomImages(12, 1, 28, 28);
  torch::Tensor indices = torch::arange(0, 12, torch::kInt64) * 7;
  torch::Tensor whole = augmenter.AugmentImages(images, indices, 1, 0);
  // Samples 9, 2, 5 alone, in another order, as their own batch.
  torch::Tensor pick = torch::tensor({9, 2, 5}, torch::kInt64);
  torch::Tensor part = augmenter.AugmentImages(
      images.index_select(0, pick), indices.index_select(0, pick), 1, 0);
  EXPECT_TRUE(torch::equal(part, whole.index_select(0, pick)));
}

TEST(AugmenterTest, NonePresetLeavesImagesUnchanged) {
  Augmenter augmenter = Make(Preset("none"));
  EXPECT_FALSE(augmenter.has_image_ops());
  torch::Tensor images = RandomImages(4, 3, 8, 8);
  torch::Tensor indices = torch::arange(4, torch::kInt64);
  EXPECT_TRUE(
      torch::equal(augmenter.AugmentImages(images, indices, 1, 1), images));
  torch::Tensor labels = torch::tensor({0, 2, 1, 2}, torch::kInt64);
  MixedBatch mixed =
      augmenter.MixBatch(images.to(torch::kFloat32), labels, 3, 1, 1, 0);
  EXPECT_TRUE(torch::equal(mixed.images, images.to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(mixed.targets,
                           torch::one_hot(labels, 3).to(torch::kFloat32)));
}

TEST(AugmenterTest, ErasedAreaIsOneRectangleWithinBounds) {
  AugmentConfig config = Preset("none");
  config.set_erasing_probability(1.0);
  config.set_erasing_area_min(0.05);
  config.set_erasing_area_max(0.25);
  Augmenter augmenter = Make(config);
  const int64_t b = 64, h = 20, w = 24;
  torch::Tensor ones = torch::ones({b, 3, h, w});
  torch::Tensor erased =
      augmenter.EraseImages(ones, torch::arange(b, torch::kInt64), 9, 2);
  int64_t erased_samples = 0;
  for (int64_t i = 0; i < b; ++i) {
    torch::Tensor zero = erased[i] == 0;  // [C, H, W]
    // Every channel erased alike.
    EXPECT_TRUE(torch::equal(zero[0], zero[1]));
    EXPECT_TRUE(torch::equal(zero[0], zero[2]));
    int64_t count = zero[0].sum().item<int64_t>();
    if (count == 0) continue;
    ++erased_samples;
    double share = static_cast<double>(count) / (h * w);
    EXPECT_GE(share, 0.05) << i;
    EXPECT_LE(share, 0.25) << i;
    // A rectangle: its bounding box holds exactly `count` pixels.
    torch::Tensor rows = zero[0].any(1).nonzero();
    torch::Tensor cols = zero[0].any(0).nonzero();
    int64_t box =
        (rows.max().item<int64_t>() - rows.min().item<int64_t>() + 1) *
        (cols.max().item<int64_t>() - cols.min().item<int64_t>() + 1);
    EXPECT_EQ(box, count) << i;
  }
  EXPECT_GE(erased_samples, b - 2);
}

TEST(AugmenterTest, CutMixLabelWeightsEqualThePastedArea) {
  AugmentConfig config = Preset("none");
  config.set_cutmix_probability(1.0);
  Augmenter augmenter = Make(config);
  const int64_t b = 5, h = 16, w = 12;
  // Sample i is filled with the value i + 1 and labelled i.
  torch::Tensor images =
      (torch::arange(1, b + 1, torch::kFloat32).view({b, 1, 1, 1}))
          .expand({b, 3, h, w})
          .contiguous();
  torch::Tensor labels = torch::arange(b, torch::kInt64);
  int pasted_batches = 0;
  for (int64_t batch_index = 0; batch_index < 20; ++batch_index) {
    MixedBatch mixed = augmenter.MixBatch(images, labels, b, 3, 0, batch_index);
    ASSERT_TRUE(torch::allclose(mixed.targets.sum(1), torch::ones({b})));
    for (int64_t i = 0; i < b; ++i) {
      int64_t partner = (i + b - 1) % b;
      double pasted = (mixed.images[i] == partner + 1)
                          .to(torch::kFloat32)
                          .mean()
                          .item<double>();
      double own =
          (mixed.images[i] == i + 1).to(torch::kFloat32).mean().item<double>();
      EXPECT_NEAR(pasted + own, 1.0, 1e-6);
      EXPECT_NEAR(mixed.targets[i][partner].item<double>(), pasted, 1e-6);
      EXPECT_NEAR(mixed.targets[i][i].item<double>(), own, 1e-6);
      if (i == 0 && pasted > 0) ++pasted_batches;
    }
  }
  EXPECT_GT(pasted_batches, 10);
}

TEST(AugmenterTest, MixUpBlendsImagesAndTargetsWithOneWeight) {
  AugmentConfig config = Preset("none");
  config.set_mixup_probability(1.0);
  config.set_mixup_alpha(0.4);
  Augmenter augmenter = Make(config);
  const int64_t b = 3;
  torch::Tensor images = torch::tensor({0.0f, 10.0f, 20.0f})
                             .view({b, 1, 1, 1})
                             .expand({b, 1, 2, 2});
  torch::Tensor labels = torch::tensor({2, 0, 1}, torch::kInt64);
  MixedBatch mixed = augmenter.MixBatch(images, labels, 3, 5, 1, 7);
  double weight = mixed.targets[1][0].item<double>();  // sample 1's own class
  EXPECT_GT(weight, 0.0);
  EXPECT_LT(weight, 1.0);
  // Sample 1 = weight * 10 + (1 - weight) * 0 (its partner is sample 0).
  EXPECT_NEAR(mixed.images[1][0][0][0].item<double>(), 10.0 * weight, 1e-4);
  EXPECT_NEAR(mixed.targets[1][2].item<double>(), 1.0 - weight, 1e-6);
  EXPECT_TRUE(torch::allclose(mixed.targets.sum(1), torch::ones({b})));
}

TEST(AugmenterTest, FlipOnlyPolicyFlipsAboutHalfTheSamples) {
  AugmentConfig config = Preset("none");
  config.set_horizontal_flip(true);
  Augmenter augmenter = Make(config);
  torch::Tensor images = RandomImages(200, 1, 4, 5);
  torch::Tensor out =
      augmenter.AugmentImages(images, torch::arange(200, torch::kInt64), 2, 0);
  int flipped = 0;
  for (int64_t i = 0; i < 200; ++i) {
    if (torch::equal(out[i], images[i].flip(2))) {
      ++flipped;
    } else {
      EXPECT_TRUE(torch::equal(out[i], images[i]));
    }
  }
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
}

}  // namespace
}  // namespace vit_moe::augment
