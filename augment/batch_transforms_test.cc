#include "augment/batch_transforms.h"

#include <gtest/gtest.h>

namespace vit_moe::augment {
namespace {

data::Normalization CifarNormalization() {
  data::Normalization norm;
  for (double mean : {0.49, 0.48, 0.45}) norm.add_mean(mean);
  for (double std : {0.25, 0.24, 0.26}) norm.add_std(std);
  return norm;
}

data::Batch RandomBatch() {
  torch::manual_seed(4);
  data::Batch batch;
  batch.images = torch::randint(0, 256, {6, 3, 32, 32}, torch::kUInt8);
  batch.labels = torch::randint(0, 10, {6}, torch::kInt64);
  batch.indices = torch::arange(100, 106, torch::kInt64);
  batch.batch_index = 7;
  return batch;
}

TEST(BatchTransformsTest, TrainingIsOpsThenNormalizationThenErasing) {
  AugmentConfig config;
  config.set_preset("seed");
  absl::StatusOr<Augmenter> augmenter =
      Augmenter::Create(config, data::CIFAR10);
  ASSERT_TRUE(augmenter.ok()) << augmenter.status();
  ASSERT_TRUE(augmenter->has_image_ops());
  const data::Normalization norm = CifarNormalization();
  const data::Batch batch = RandomBatch();

  const torch::Tensor expected = augmenter->EraseImages(
      data::NormalizeImages(
          augmenter->AugmentImages(batch.images, batch.indices, 11, 2), norm),
      batch.indices, 11, 2);
  const data::Batch out =
      TrainingTransform(*augmenter, norm, 11, 2, /*pin_memory=*/false)(batch);
  EXPECT_TRUE(torch::equal(out.images, expected));
  EXPECT_TRUE(torch::equal(out.labels, batch.labels));
  EXPECT_EQ(out.batch_index, 7);
  // Another epoch draws other augmentations.
  const data::Batch other =
      TrainingTransform(*augmenter, norm, 11, 3, /*pin_memory=*/false)(batch);
  EXPECT_FALSE(torch::equal(other.images, expected));
}

TEST(BatchTransformsTest, EvaluationNormalizesAfterTheOptionalStep) {
  const data::Normalization norm = CifarNormalization();
  const data::Batch batch = RandomBatch();
  const data::Batch plain =
      EvaluationTransform(norm, /*pin_memory=*/false)(batch);
  EXPECT_TRUE(
      torch::equal(plain.images, data::NormalizeImages(batch.images, norm)));

  auto invert = [](data::Batch b) {
    b.images = 255 - b.images;
    return b;
  };
  const data::Batch inverted =
      EvaluationTransform(norm, /*pin_memory=*/false, invert)(batch);
  EXPECT_TRUE(torch::equal(inverted.images,
                           data::NormalizeImages(255 - batch.images, norm)));
}

}  // namespace
}  // namespace vit_moe::augment
