#include "data/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "data/normalization.h"

namespace vit_moe::data {
namespace {

// 10 images of 2x2x3 where every pixel of image i equals i.
SplitData MakeSplit(int64_t n = 10) {
  SplitData split;
  split.name = "train";
  split.images = torch::arange(n, torch::kInt64)
                     .to(torch::kUInt8)
                     .view({n, 1, 1, 1})
                     .expand({n, 2, 2, 3})
                     .contiguous();                    // [N, H, W, C]
  split.labels = torch::arange(n, torch::kInt64) % 3;  // [N]
  return split;
}

std::vector<int64_t> Indices(const Batch& batch) {
  return std::vector<int64_t>(
      batch.indices.data_ptr<int64_t>(),
      batch.indices.data_ptr<int64_t>() + batch.indices.numel());
}

std::vector<Batch> Drain(BatchLoader& loader) {
  std::vector<Batch> batches;
  while (auto batch = loader.Next()) batches.push_back(std::move(*batch));
  return batches;
}

TEST(EpochOrderTest, PermutationFromSeedAndEpochOnly) {
  auto a = EpochOrder(100, true, 5, 0);
  EXPECT_EQ(a, EpochOrder(100, true, 5, 0));
  EXPECT_NE(a, EpochOrder(100, true, 5, 1));
  EXPECT_NE(a, EpochOrder(100, true, 6, 0));
  std::set<int64_t> unique(a.begin(), a.end());
  EXPECT_EQ(unique.size(), 100u);
  auto identity = EpochOrder(4, false, 5, 3);
  EXPECT_EQ(identity, (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(BatchLoaderTest, YieldsChannelsFirstBatchesMatchingIndices) {
  SplitData split = MakeSplit();
  LoaderOptions options;
  options.batch_size = 4;
  options.seed = 11;
  BatchLoader loader(split, options, /*epoch=*/2);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  std::vector<Batch> batches = Drain(loader);
  ASSERT_EQ(batches.size(), 2u);
  auto order = EpochOrder(10, true, 11, 2);
  for (int b = 0; b < 2; ++b) {
    const Batch& batch = batches[b];
    EXPECT_EQ(batch.batch_index, b);
    EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{4, 3, 2, 2}));
    EXPECT_EQ(batch.images.dtype(), torch::kUInt8);
    std::vector<int64_t> expected(order.begin() + 4 * b,
                                  order.begin() + 4 * b + 4);
    EXPECT_EQ(Indices(batch), expected);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(batch.images[i][1][1][0].item<int>(), expected[i]);
      EXPECT_EQ(batch.labels[i].item<int64_t>(), expected[i] % 3);
    }
  }
}

TEST(BatchLoaderTest, RanksSliceEachGlobalBatch) {
  SplitData split = MakeSplit(23);
  LoaderOptions options;
  options.batch_size = 6;
  options.drop_last = false;
  options.world_size = 3;
  std::vector<std::vector<Batch>> per_rank;
  for (int rank = 0; rank < 3; ++rank) {
    options.rank = rank;
    BatchLoader loader(split, options, 0);
    EXPECT_EQ(loader.batches_per_epoch(), 4);
    per_rank.push_back(Drain(loader));
  }
  auto order = EpochOrder(23, true, 0, 0);
  std::vector<int64_t> seen;
  for (int b = 0; b < 4; ++b) {
    for (int rank = 0; rank < 3; ++rank) {
      auto indices = Indices(per_rank[rank][b]);
      seen.insert(seen.end(), indices.begin(), indices.end());
    }
  }
  EXPECT_EQ(seen, order);  // contiguous slices, the short last batch shared
  EXPECT_EQ(per_rank[0][3].indices.numel(), 1);
  EXPECT_EQ(per_rank[2][3].indices.numel(), 2);
}

TEST(BatchLoaderTest, StartBatchLimitAndPrefetchOffAgree) {
  SplitData split = MakeSplit(40);
  LoaderOptions options;
  options.batch_size = 5;
  options.limit_images = 30;
  BatchLoader full(split, options, 1);
  std::vector<Batch> all = Drain(full);
  ASSERT_EQ(all.size(), 6u);
  for (const Batch& batch : all) {
    for (int64_t i : Indices(batch)) EXPECT_LT(i, 30);
  }
  options.start_batch = 4;
  options.prefetch_batches = 0;
  BatchLoader resumed(split, options, 1);
  std::vector<Batch> rest = Drain(resumed);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].batch_index, 4);
  EXPECT_EQ(Indices(rest[0]), Indices(all[4]));
  EXPECT_EQ(Indices(rest[1]), Indices(all[5]));
}

TEST(BatchLoaderTest, WithoutPrefetchTheTransformRunsInNext) {
  SplitData split = MakeSplit();
  LoaderOptions options;
  options.batch_size = 2;
  options.prefetch_batches = 0;
  const std::thread::id consumer = std::this_thread::get_id();
  int transformed = 0;
  BatchLoader loader(split, options, 0, [&](Batch batch) {
    EXPECT_EQ(std::this_thread::get_id(), consumer);
    ++transformed;
    return batch;
  });
  EXPECT_EQ(transformed, 0);
  ASSERT_TRUE(loader.Next().has_value());
  EXPECT_EQ(transformed, 1);
}

TEST(PrefetchBatchesForTest, AThreadOnlyWhereItHasACoreOrTheHostWaits) {
  EXPECT_EQ(PrefetchBatchesFor(/*accelerator=*/false, 2, 2), 0);
  EXPECT_EQ(PrefetchBatchesFor(/*accelerator=*/false, 4, 2), 0);
  EXPECT_EQ(PrefetchBatchesFor(/*accelerator=*/false, 1, 2), 2);
  EXPECT_EQ(PrefetchBatchesFor(/*accelerator=*/true, 2, 2), 2);
  EXPECT_EQ(PrefetchBatchesFor(/*accelerator=*/true, 16, 16), 2);
}

TEST(BatchLoaderTest, TransformRunsOnPrefetchThreadAndErrorsSurface) {
  SplitData split = MakeSplit();
  LoaderOptions options;
  options.batch_size = 2;
  options.prefetch_batches = 1;
  const std::thread::id consumer = std::this_thread::get_id();
  BatchLoader loader(split, options, 0, [&](Batch batch) {
    EXPECT_NE(std::this_thread::get_id(), consumer);
    batch.images = batch.images.to(torch::kFloat32) / 255.0;
    return batch;
  });
  auto batch = loader.Next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->images.dtype(), torch::kFloat32);

  BatchLoader failing(split, options, 0, [](Batch batch) -> Batch {
    if (batch.batch_index == 1) throw std::runtime_error("transform broke");
    return batch;
  });
  EXPECT_TRUE(failing.Next().has_value());
  EXPECT_THROW(failing.Next(), std::runtime_error);
}

TEST(BatchLoaderTest, DestroyingMidEpochStopsTheThread) {
  SplitData split = MakeSplit(100);
  LoaderOptions options;
  options.batch_size = 2;
  for (int i = 0; i < 5; ++i) {
    BatchLoader loader(split, options, i);
    loader.Next();
  }
}

TEST(NormalizeImagesTest, ScalesAndStandardises) {
  Normalization norm;
  norm.add_mean(0.5);
  norm.add_mean(0.0);
  norm.add_std(0.5);
  norm.add_std(2.0);
  torch::Tensor images =
      torch::tensor({255, 0}, torch::kUInt8).view({1, 2, 1, 1});
  torch::Tensor out = NormalizeImages(images, norm);
  EXPECT_EQ(out.dtype(), torch::kFloat32);
  EXPECT_NEAR(out[0][0][0][0].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(out[0][1][0][0].item<float>(), 0.0f, 1e-6);
}

}  // namespace
}  // namespace vit_moe::data
