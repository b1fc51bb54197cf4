#include "model/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/presets.h"

namespace vit_moe::model {
namespace {

using ::testing::HasSubstr;

TEST(ResolveModelConfigTest, PresetsResolveAndValidate) {
  for (const std::string& name : PresetNames()) {
    ModelConfig config;
    config.set_preset(name);
    absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(config);
    ASSERT_TRUE(resolved.ok()) << name << ": " << resolved.status();
    EXPECT_EQ(resolved->preset(), name);
  }
}

TEST(ResolveModelConfigTest, EmptyPresetMeansDefault) {
  absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(ModelConfig());
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->preset(), "default");
}

TEST(ResolveModelConfigTest, OverridesOnlyTheFieldsSet) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_num_classes(10);
  config.mutable_moe()->set_top_k(2);
  absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->num_classes(), 10);
  EXPECT_EQ(resolved->moe().top_k(), 2);
  EXPECT_EQ(resolved->moe().num_experts(), 7);
  EXPECT_EQ(resolved->embed_dim(), 192);
  EXPECT_DOUBLE_EQ(resolved->dropout(), 0.15);
}

TEST(ResolveModelConfigTest, ZeroOverridesAreKept) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_dropout(0.0);
  config.set_drop_path(0.0);
  absl::StatusOr<ModelConfig> resolved = ResolveModelConfig(config);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->dropout(), 0.0);
  EXPECT_EQ(resolved->drop_path(), 0.0);
}

absl::Status ResolveStatus(const ModelConfig& config) {
  return ResolveModelConfig(config).status();
}

TEST(ValidateModelConfigTest, UnknownPreset) {
  ModelConfig config;
  config.set_preset("huge");
  absl::Status status = ResolveStatus(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("model.preset"));
  EXPECT_THAT(status.message(), HasSubstr("seed"));
}

TEST(ValidateModelConfigTest, EmbedDimNotDivisibleByHeads) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_num_heads(5);
  absl::Status status = ResolveStatus(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("model.embed_dim"));
  EXPECT_THAT(status.message(), HasSubstr("num_heads (5)"));
}

TEST(ValidateModelConfigTest, TopKAboveExperts) {
  ModelConfig config;
  config.set_preset("seed");
  config.mutable_moe()->set_top_k(8);
  absl::Status status = ResolveStatus(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("model.moe.top_k"));
  EXPECT_THAT(status.message(), HasSubstr("num_experts (7)"));
}

TEST(ValidateModelConfigTest, ImageNotDivisibleByPatch) {
  ModelConfig config;
  config.set_preset("seed");
  config.set_image_size(30);
  absl::Status status = ResolveStatus(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("model.image_size"));
  EXPECT_THAT(status.message(), HasSubstr("patch_size (4)"));
}

TEST(ValidateModelConfigTest, StemReductionCounts) {
  // 28 = 2 (stem) * 2 (patch) * 7 is fine; with two stem layers it is not.
  ModelConfig config;
  config.set_image_size(28);
  EXPECT_TRUE(ResolveStatus(config).ok());
  config.set_conv_stem_layers(2);
  EXPECT_THAT(ResolveStatus(config).message(), HasSubstr("model.image_size"));
}

TEST(ValidateModelConfigTest, RatesAndEnums) {
  ModelConfig config;
  config.set_dropout(1.0);
  EXPECT_THAT(ResolveStatus(config).message(), HasSubstr("model.dropout"));
  config = ModelConfig();
  config.mutable_moe()->set_expert_kind(EXPERT_KIND_UNSPECIFIED);
  EXPECT_THAT(ResolveStatus(config).message(),
              HasSubstr("model.moe.expert_kind"));
  config = ModelConfig();
  config.set_depth(0);
  EXPECT_EQ(ResolveStatus(config).message(),
            "model.depth must be >= 1 (got 0)");
  config = ModelConfig();
  config.mutable_moe()->set_capacity_factor(-0.5);
  EXPECT_EQ(ResolveStatus(config).message(),
            "model.moe.capacity_factor must be >= 0 (got -0.5)");
  config = ModelConfig();
  config.set_depth(1);
  config.mutable_moe()->set_placement(EVERY_OTHER_LAYER);
  EXPECT_THAT(ResolveStatus(config).message(),
              HasSubstr("model.moe.placement"));
}

TEST(ConfigTest, DerivedQuantities) {
  ModelConfig seed = SeedPreset();
  EXPECT_EQ(TokenGridSide(seed), 8);
  EXPECT_EQ(TokensPerImage(seed), 65);
  EXPECT_EQ(MlpHiddenDim(seed), 384);
  EXPECT_TRUE(IsMoeLayer(seed, 0));
  ModelConfig def = DefaultPreset();
  def.set_image_size(28);
  EXPECT_EQ(TokensPerImage(def), 49);  // sequence pooling: no class token
  EXPECT_FALSE(IsMoeLayer(def, 0));
  EXPECT_TRUE(IsMoeLayer(def, 1));
}

TEST(ForwardFlopsTest, HandComputedTinyModel) {
  ModelConfig c = DefaultPreset();
  c.set_image_size(4);
  c.set_in_channels(1);
  c.set_num_classes(2);
  c.set_conv_stem_layers(0);
  c.set_patch_size(2);
  c.set_embed_dim(4);
  c.set_num_heads(1);
  c.set_mlp_ratio(1.0);
  c.set_depth(1);
  c.set_pooling(CLASS_TOKEN);
  c.mutable_moe()->set_placement(EVERY_LAYER);
  c.mutable_moe()->set_expert_kind(FFN);
  c.mutable_moe()->set_num_experts(2);
  c.mutable_moe()->set_top_k(1);
  ASSERT_TRUE(ValidateModelConfig(c).ok());
  // 5 tokens. Patch conv 2*4*(2*2*1)*4 = 128; router 5*2*4*2 = 80;
  // attention per token: kv 64 + q 32 + proj 32 + scores/values 80 = 208;
  // one MLP per token 64; head 2*4*2 = 16.
  EXPECT_DOUBLE_EQ(ForwardFlopsPerImage(c), 128 + 80 + 5 * 208 + 5 * 64 + 16);
  c.mutable_moe()->set_top_k(2);
  EXPECT_DOUBLE_EQ(ForwardFlopsPerImage(c),
                   128 + 80 + 5 * 208 + 2 * 5 * 64 + 16);
}

TEST(ForwardFlopsTest, SparseBlockExpertsCostLessThanDense) {
  ModelConfig seed = SeedPreset();
  const double sparse = ForwardFlopsPerImage(seed);
  seed.mutable_moe()->set_top_k(7);
  EXPECT_LT(sparse, ForwardFlopsPerImage(seed));
}

}  // namespace
}  // namespace vit_moe::model
