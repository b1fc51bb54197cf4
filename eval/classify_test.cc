#include "eval/classify.h"

#include <gtest/gtest.h>

#include <vector>

#include "model/test_util.h"

namespace vit_moe::eval {
namespace {

data::SplitData TinySplit(int64_t n) {
  torch::manual_seed(6);
  data::SplitData split;
  split.name = "test";
  split.images = torch::randint(0, 256, {n, 8, 8, 3}, torch::kUInt8);
  split.labels = torch::arange(n, torch::kInt64) % 5;
  return split;
}

torch::Tensor AsFloat(const torch::Tensor& images) {
  return images.to(torch::kFloat32) / 255.0;
}

TEST(ClassifyTest, VisitsEveryImageInOrderAndRestoresTheMode) {
  torch::manual_seed(2);
  model::ViTMoE net(model::TinyConfig(model::FFN));
  net->train();
  const data::SplitData split = TinySplit(7);
  data::LoaderOptions options;
  options.batch_size = 3;
  options.shuffle = false;
  options.drop_last = false;
  data::BatchLoader loader(split, options, 0, [](data::Batch b) {
    b.images = AsFloat(b.images);
    return b;
  });
  std::vector<torch::Tensor> logits, labels;
  ClassifyBatches(net, loader, torch::kCPU, model::PrecisionChoice(),
                  [&](const data::Batch& batch, const torch::Tensor& on_device,
                      const model::ModelOutput& output) {
                    EXPECT_EQ(output.logits.scalar_type(), torch::kFloat32);
                    EXPECT_FALSE(output.logits.requires_grad());
                    EXPECT_TRUE(torch::equal(on_device, batch.labels));
                    logits.push_back(output.logits);
                    labels.push_back(on_device);
                  });
  EXPECT_TRUE(net->is_training());
  ASSERT_EQ(logits.size(), 3u);  // 3 + 3 + 1
  EXPECT_TRUE(torch::equal(torch::cat(labels), split.labels));

  // The same logits as one forward pass in eval mode over all images.
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor all =
      net->forward(AsFloat(split.images.permute({0, 3, 1, 2}))).logits;
  EXPECT_TRUE(torch::allclose(torch::cat(logits), all, 1e-5, 1e-6));
}

TEST(ClassifyTest, SkipsTheEmptyShareOfAShardedLastBatch) {
  model::ViTMoE net(model::TinyConfig(model::FFN));
  const data::SplitData split = TinySplit(5);
  data::LoaderOptions options;
  options.batch_size = 4;
  options.shuffle = false;
  options.drop_last = false;
  options.rank = 0;
  options.world_size = 2;
  data::BatchLoader loader(split, options, 0, [](data::Batch b) {
    b.images = AsFloat(b.images);
    return b;
  });
  int64_t images = 0, calls = 0;
  ClassifyBatches(net, loader, torch::kCPU, model::PrecisionChoice(),
                  [&](const data::Batch&, const torch::Tensor& labels,
                      const model::ModelOutput&) {
                    images += labels.size(0);
                    ++calls;
                  });
  // Rank 0 holds images 0, 1 of the first batch and none of the second
  // (its one image goes to rank 1).
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(images, 2);
}

}  // namespace
}  // namespace vit_moe::eval
