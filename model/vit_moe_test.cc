#include "model/vit_moe.h"

#include <set>

#include "gtest/gtest.h"
#include "model/config.h"
#include "model/presets.h"
#include "model/test_util.h"

namespace vit_moe::model {
namespace {

TEST(ViTMoETest, SeedPresetParameterCount) {
  // REFERENCE.md: 18,755,371 by arithmetic at 43 classes (the seed README's
  // 18,756,846 matches no class count); 18,749,002 at 10.
  ModelConfig seed = SeedPreset();
  seed.set_num_classes(43);
  EXPECT_EQ(CountTrainableParameters(ViTMoE(seed)), 18755371);
  seed.set_num_classes(10);
  EXPECT_EQ(CountTrainableParameters(ViTMoE(seed)), 18749002);
}

TEST(ViTMoETest, ParameterNamesAreStable) {
  ViTMoE model(SeedPreset());
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  for (const char* name :
       {"patch_embed.weight", "cls_token", "pos_embed",
        "blocks.3.moe.router.expert_tokens",
        "blocks.3.moe.experts.2.norm1.weight",
        "blocks.3.moe.experts.2.attn.qkv.weight",
        "blocks.3.moe.experts.2.mlp.fc1.weight", "norm.weight", "head.bias"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  ModelConfig def = DefaultPreset();
  ViTMoE ffn(def);
  names.clear();
  for (const auto& item : ffn->named_parameters()) names.insert(item.key());
  for (const char* name :
       {"stem.0.weight", "blocks.0.mlp.fc1.weight", "blocks.1.attn.qkv.weight",
        "blocks.1.moe.experts.3.fc2.weight", "seq_pool.weight"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST(ViTMoETest, ForwardShapesOnFashionMnistSizedInput) {
  ModelConfig config = DefaultPreset();
  config.set_image_size(28);
  config.set_in_channels(1);
  config.set_num_classes(10);
  ViTMoE model(config);
  ModelOutput out = model->forward(torch::randn({3, 1, 28, 28}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 10}));
  // The features are what the head reads.
  ASSERT_EQ(out.features.sizes(),
            (std::vector<int64_t>{3, config.embed_dim()}));
  const auto head = model->named_children()["head"];
  EXPECT_TRUE(torch::allclose(
      head->as<torch::nn::Linear>()->forward(out.features), out.logits));
  EXPECT_EQ(out.aux_loss.dim(), 0);
  EXPECT_EQ(out.balance_loss.dim(), 0);
  ASSERT_EQ(out.expert_load.size(), 3u);  // layers 1, 3, 5
  for (size_t i = 0; i < out.expert_load.size(); ++i) {
    EXPECT_EQ(out.expert_load[i].sum().item<double>(), 3 * 49 * 2);
    EXPECT_EQ(out.top_experts[i].sizes(), (std::vector<int64_t>{3, 49, 2}));
  }
  ASSERT_EQ(out.diagnostics.size(), 3u);
  for (const MoeDiagnostics& layer : out.diagnostics) {
    EXPECT_EQ(layer.router_entropy.dim(), 0);
    EXPECT_FALSE(layer.z_loss.requires_grad());
  }
  ASSERT_EQ(out.routing.size(), 3u);
  const double weight = model->config().moe().balance_loss_weight();
  EXPECT_GT(weight, 0);
  EXPECT_NEAR(out.aux_loss.item<double>(),
              weight * out.balance_loss.item<double>() +
                  out.router_penalty.item<double>(),
              1e-6);
  // Replaced statistics (the global batch's, in data-parallel training)
  // give the losses of those: uniform routing balances to exactly 1.
  for (RoutingStatistics& layer : out.routing) {
    const int64_t e = layer.mean_prob.size(0);
    layer.assignment_share = torch::full({e}, 1.0 / e);
    layer.mean_prob = torch::full({e}, 1.0 / e);
  }
  SetAuxLosses(weight, &out);
  EXPECT_NEAR(out.balance_loss.item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(out.aux_loss.item<double>(),
              weight + out.router_penalty.item<double>(), 1e-6);
}

TEST(ViTMoETest, WholeModelSparseEqualsDense) {
  for (ExpertKind kind : {BLOCK, FFN}) {
    torch::manual_seed(4);
    ModelConfig config = TinyConfig(kind);
    config.mutable_moe()->set_top_k(3);
    ViTMoE model(config);
    torch::Tensor images = torch::randn({4, 3, 8, 8});
    torch::Tensor sparse = model->forward(images).logits;
    model->set_dense_reference(true);
    torch::Tensor dense = model->forward(images).logits;
    EXPECT_LE((sparse - dense).abs().max().item<double>(), 1e-5);
  }
}

TEST(ViTMoETest, WeightDecayGroupsPartitionParameters) {
  ViTMoE model(SeedPreset());
  std::vector<torch::Tensor> decay = model->decay_parameters();
  std::vector<torch::Tensor> no_decay = model->no_decay_parameters();
  EXPECT_EQ(decay.size() + no_decay.size(), model->parameters().size());
  std::set<const void*> no_decay_ptrs;
  for (const auto& p : no_decay) no_decay_ptrs.insert(p.data_ptr());
  for (const auto& p : decay) {
    EXPECT_FALSE(no_decay_ptrs.count(p.data_ptr()));
    EXPECT_GE(p.dim(), 2);
  }
  auto params = model->named_parameters();
  for (const char* name :
       {"pos_embed", "cls_token", "blocks.0.moe.router.expert_tokens",
        "norm.weight", "head.bias"}) {
    EXPECT_TRUE(no_decay_ptrs.count(params[name].data_ptr())) << name;
  }
}

TEST(ViTMoETest, TinyModelOverfitsOneBatch) {
  torch::manual_seed(0);
  ModelConfig config = TinyConfig(BLOCK);
  config.set_embed_dim(32);
  config.set_num_heads(4);
  config.set_num_classes(10);
  ViTMoE model(config);
  torch::Tensor images = torch::randn({64, 3, 8, 8});
  torch::Tensor labels = torch::randint(0, 10, {64}, torch::kLong);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(3e-3));
  double accuracy = 0.0;
  for (int step = 0; step < 300 && accuracy < 1.0; ++step) {
    model->train();
    ModelOutput out = model->forward(images);
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(out.logits, labels) + out.aux_loss;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step % 10 == 9) {
      torch::NoGradGuard no_grad;
      model->eval();
      torch::Tensor predicted = model->forward(images).logits.argmax(1);
      accuracy = predicted.eq(labels).to(torch::kFloat).mean().item<double>();
    }
  }
  EXPECT_EQ(accuracy, 1.0);
}

}  // namespace
}  // namespace vit_moe::model
