#include "model/checkpoint.h"

#include <fstream>

#include "absl/strings/match.h"
#include "common/atomic_file.h"
#include "common/proto_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/tensor_record.pb.h"
#include "model/test_util.h"

namespace vit_moe::model {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

TEST(CheckpointTest, RoundTripRestoresConfigAndOutputs) {
  torch::manual_seed(1);
  ModelConfig config = TinyConfig(BLOCK);
  ViTMoE model(config);
  model->eval();
  const std::string path = TempPath("round_trip.pt");
  ASSERT_TRUE(SaveModel(path, model).ok());

  absl::StatusOr<ViTMoE> loaded = LoadModel(path, torch::kCPU);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->config().SerializeAsString(),
            config.SerializeAsString());
  torch::NoGradGuard no_grad;
  torch::Tensor images = torch::randn({2, 3, 8, 8});
  EXPECT_TRUE(torch::equal(model->forward(images).logits,
                           (*loaded)->forward(images).logits));
  // Equal models serialise to equal bytes.
  const std::string again = TempPath("round_trip_again.pt");
  ASSERT_TRUE(SaveModel(again, *loaded).ok());
  EXPECT_EQ(*ReadFile(path), *ReadFile(again));
  absl::StatusOr<ModelConfig> stored = ReadModelConfig(path);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->embed_dim(), 16);
}

TEST(CheckpointTest, LoadWeightsIntoSameShapeModel) {
  torch::manual_seed(2);
  ViTMoE a(TinyConfig(FFN));
  ViTMoE b(TinyConfig(FFN));
  const std::string path = TempPath("weights.pt");
  ASSERT_TRUE(SaveModel(path, a).ok());
  ASSERT_TRUE(LoadWeightsInto(b, path).ok());
  EXPECT_TRUE(torch::equal(a->named_parameters()["head.weight"],
                           b->named_parameters()["head.weight"]));
}

TEST(CheckpointTest, ShapeMismatchNamesTheTensor) {
  ViTMoE small(TinyConfig(BLOCK));
  const std::string path = TempPath("small.pt");
  ASSERT_TRUE(SaveModel(path, small).ok());

  ModelConfig wider = TinyConfig(BLOCK);
  wider.set_num_classes(7);
  ViTMoE other(wider);
  torch::Tensor before = other->named_parameters()["head.weight"].clone();
  absl::Status status = LoadWeightsInto(other, path);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("head.weight"));
  EXPECT_THAT(status.message(), HasSubstr("[5, 16]"));
  EXPECT_THAT(status.message(), HasSubstr(path));
  // A failed load leaves the model untouched.
  EXPECT_TRUE(torch::equal(before, other->named_parameters()["head.weight"]));

  ModelConfig more_experts = TinyConfig(BLOCK);
  more_experts.mutable_moe()->set_num_experts(5);
  ViTMoE bigger(more_experts);
  status = LoadWeightsInto(bigger, path);
  EXPECT_THAT(status.message(), HasSubstr("router.expert_tokens"));
}

// Fine-tuning to another class count: everything but the head comes from
// the file, the head keeps the model's fresh initialisation, and any other
// mismatch is still refused whole.
TEST(CheckpointTest, KeptPrefixKeepsTheModelsOwnTensors) {
  torch::manual_seed(4);
  ViTMoE five(TinyConfig(BLOCK));
  const std::string path = TempPath("five_classes.pt");
  ASSERT_TRUE(SaveModel(path, five).ok());

  ModelConfig three_classes = TinyConfig(BLOCK);
  three_classes.set_num_classes(3);
  ViTMoE three(three_classes);
  torch::Tensor fresh_head = three->named_parameters()["head.weight"].clone();
  ASSERT_TRUE(LoadWeightsInto(three, path, "head.").ok());
  EXPECT_TRUE(
      torch::equal(three->named_parameters()["head.weight"], fresh_head));
  for (const auto& item : five->named_parameters()) {
    if (IsHeadParameter(item.key())) continue;
    EXPECT_TRUE(
        torch::equal(three->named_parameters()[item.key()], item.value()))
        << item.key();
  }

  ModelConfig deeper = three_classes;
  deeper.set_depth(3);
  ViTMoE other(deeper);
  torch::Tensor before = other->named_parameters()["pos_embed"].clone();
  EXPECT_THAT(LoadWeightsInto(other, path, "head.").message(),
              HasSubstr("blocks.2."));
  EXPECT_TRUE(torch::equal(before, other->named_parameters()["pos_embed"]));
}

TEST(CheckpointTest, ParameterPlacesCoverTheModel) {
  ModelConfig config = TinyConfig(FFN);
  config.set_conv_stem_layers(1);
  ViTMoE model(config);
  int embedding = 0, head = 0, blocks = 0, rest = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    if (IsEmbeddingParameter(name)) {
      ++embedding;
    } else if (IsHeadParameter(name)) {
      ++head;
    } else if (BlockIndexOf(name) >= 0) {
      EXPECT_LT(BlockIndexOf(name), config.depth()) << name;
      ++blocks;
    } else {
      EXPECT_TRUE(absl::StartsWith(name, "norm.")) << name;
      ++rest;
    }
  }
  // Stem conv, patch weight and bias, position embedding (+ class token).
  EXPECT_GE(embedding, 4);
  EXPECT_EQ(head, 2);
  EXPECT_GT(blocks, 0);
  EXPECT_EQ(rest, 2);
  EXPECT_EQ(BlockIndexOf("blocks.12.moe.router.expert_tokens"), 12);
  EXPECT_EQ(BlockIndexOf("blocksx.1.w"), -1);
  EXPECT_EQ(BlockIndexOf("blocks.x.w"), -1);
}

TEST(CheckpointTest, MissingAndExtraTensors) {
  ModelConfig deeper = TinyConfig(FFN);
  deeper.set_depth(3);
  ViTMoE three(deeper);
  ViTMoE two(TinyConfig(FFN));
  const std::string three_path = TempPath("three.pt");
  const std::string two_path = TempPath("two.pt");
  ASSERT_TRUE(SaveModel(three_path, three).ok());
  ASSERT_TRUE(SaveModel(two_path, two).ok());
  EXPECT_THAT(LoadWeightsInto(two, three_path).message(),
              HasSubstr("blocks.2."));
  EXPECT_THAT(LoadWeightsInto(three, two_path).message(),
              HasSubstr("blocks.2."));
}

TEST(CheckpointTest, CorruptFilesAreRejected) {
  ViTMoE model(TinyConfig(FFN));
  const std::string good = TempPath("good.pt");
  ASSERT_TRUE(SaveModel(good, model).ok());
  const std::string bytes = *ReadFile(good);
  const std::string truncated = TempPath("truncated.pt");
  ASSERT_TRUE(
      WriteFileAtomically(truncated, bytes.substr(0, bytes.size() / 2)).ok());
  absl::StatusOr<ViTMoE> loaded = LoadModel(truncated, torch::kCPU);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr(truncated));

  const std::string garbage = TempPath("garbage.pt");
  ASSERT_TRUE(WriteFileAtomically(garbage, "not a model").ok());
  EXPECT_THAT(LoadModel(garbage, torch::kCPU).status().message(),
              HasSubstr(garbage + ": not a valid binary"));
  EXPECT_EQ(LoadModel(TempPath("absent.pt"), torch::kCPU).status().code(),
            absl::StatusCode::kNotFound);

  // A well-formed proto of another kind has no model file version.
  const std::string other = TempPath("other.pt");
  ModelConfig config = TinyConfig(FFN);
  ASSERT_TRUE(WriteBinaryProto(other, config).ok());
  EXPECT_THAT(ReadModelConfig(other).status().message(),
              HasSubstr("not a ViT-MoE model file (format_version"));

  const std::string retired = TempPath("retired.pt");
  ASSERT_TRUE(WriteFileAtomically(retired, "VITMOE01\x10").ok());
  EXPECT_THAT(LoadModel(retired, torch::kCPU).status().message(),
              HasSubstr("VITMOE01 layout of earlier versions"));
}

TEST(CheckpointTest, ChangedWeightOrConfigByteIsRefused) {
  torch::manual_seed(4);
  ViTMoE model(TinyConfig(FFN));
  const std::string path = TempPath("digest.pt");
  ASSERT_TRUE(SaveModel(path, model).ok());
  ModelFile file;
  ASSERT_TRUE(ReadBinaryProto(path, &file).ok());

  ModelFile weight = file;
  (*weight.mutable_tensors(2)->mutable_data())[1] ^= 0x01;
  const std::string changed_weight = TempPath("changed_weight.pt");
  ASSERT_TRUE(WriteBinaryProto(changed_weight, weight).ok());
  absl::StatusOr<ViTMoE> loaded = LoadModel(changed_weight, torch::kCPU);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(),
              HasSubstr(changed_weight + ": damaged model file"));

  ModelFile config = file;
  config.mutable_config()->set_num_classes(6);
  const std::string changed_config = TempPath("changed_config.pt");
  ASSERT_TRUE(WriteBinaryProto(changed_config, config).ok());
  EXPECT_THAT(ReadModelConfig(changed_config).status().message(),
              HasSubstr("damaged model file"));
}

}  // namespace
}  // namespace vit_moe::model
