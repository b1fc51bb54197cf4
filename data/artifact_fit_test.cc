#include "data/artifact_fit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vit_moe::data {
namespace {

using ::testing::HasSubstr;

DatasetManifest GreyStore() {
  DatasetManifest manifest;
  manifest.set_height(28);
  manifest.set_width(28);
  manifest.set_channels(1);
  for (int c = 0; c < 10; ++c) manifest.add_class_names("c");
  return manifest;
}

Normalization GreyNormalization(const std::string& manifest_sha256) {
  Normalization norm;
  norm.add_mean(0.5);
  norm.add_std(0.25);
  norm.set_manifest_sha256(manifest_sha256);
  return norm;
}

const Artifact kNorm{"--normalization", "n.pb"};
const Artifact kManifest{"--manifest", "m.pb"};
const Artifact kModel{"--model", "best_model.pt"};

TEST(ArtifactFitTest, NormalizationOfAnotherStore) {
  const DatasetManifest store = GreyStore();
  EXPECT_TRUE(CheckNormalizationFitsStore(GreyNormalization("aa"), kNorm, store,
                                          "aa", kManifest)
                  .ok());
  absl::Status other = CheckNormalizationFitsStore(
      GreyNormalization("bb"), kNorm, store, "aa", kManifest);
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.message(),
              HasSubstr("--normalization=n.pb does not belong with "
                        "--manifest=m.pb: computed for the manifest with "
                        "SHA-256 bb, this one has aa"));
}

TEST(ArtifactFitTest, ChannelsCountEvenWhenTheDigestMatches) {
  Normalization rgb = GreyNormalization("aa");
  rgb.add_mean(0.5);
  rgb.add_std(0.25);
  rgb.add_mean(0.5);
  rgb.add_std(0.25);
  EXPECT_THAT(
      CheckNormalizationFitsStore(rgb, kNorm, GreyStore(), "aa", kManifest)
          .message(),
      HasSubstr("3 mean(s) and 3 std(s) for 1-channel images"));
  EXPECT_THAT(CheckNormalizationChannels(rgb, kNorm, 1, kModel).message(),
              HasSubstr("--normalization=n.pb does not belong with "
                        "--model=best_model.pt: 3 mean(s) and 3 std(s) for "
                        "1-channel images"));
}

TEST(ArtifactFitTest, ModelOfAnotherShapeOrClassCount) {
  const DatasetManifest store = GreyStore();
  EXPECT_TRUE(CheckModelFitsStore(28, 1, 10, kModel, store, kManifest).ok());
  EXPECT_THAT(
      CheckModelFitsStore(28, 1, 43, kModel, store, kManifest).message(),
      HasSubstr("--model=best_model.pt does not belong with --manifest=m.pb: "
                "the model has 43 classes, the store lists 10"));
  EXPECT_THAT(
      CheckModelFitsStore(32, 3, 10, kModel, store, kManifest).message(),
      HasSubstr("the model takes 32x32x3 images, the store holds 28x28x1"));
}

}  // namespace
}  // namespace vit_moe::data
