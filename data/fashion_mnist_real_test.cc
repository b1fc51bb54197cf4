// The real Fashion-MNIST from Debian's dataset-fashion-mnist package through
// the whole stage with its built-in pins: split sizes, per-class counts and
// digests that must not drift between runs or builds.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/digest.h"
#include "data/normalization.h"
#include "data/stage.h"
#include "data/store.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

// SHA-256 of manifest.pb for the default split (seed 0, 1/12) of Debian's
// files. It covers every store file's digest, so it pins the whole store.
constexpr char kExpectedManifestSha256[] =
    "6a6772add3e41b1d51b65787e45b08ea6220538215a9dfa64775f2c200e0b62b";

TEST(FashionMnistRealTest, PacksDebianFilesReproducibly) {
  auto sources = LoadSourceManifest("");
  ASSERT_TRUE(sources.ok()) << sources.status();
  std::string manifest_digest[2];
  for (int run = 0; run < 2; ++run) {
    StageOptions options;
    options.dataset = FASHION_MNIST;
    options.out_dir =
        (fs::path(::testing::TempDir()) / ("fmnist" + std::to_string(run)))
            .string();
    options.fetch.download.show_progress = false;
    auto manifest = RunDownloadStage(*sources, options);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    ASSERT_EQ(manifest->splits_size(), 3);
    const int64_t sizes[] = {55000, 5000, 10000};
    const int64_t per_class[] = {5500, 500, 1000};
    for (int s = 0; s < 3; ++s) {
      EXPECT_EQ(manifest->splits(s).num_images(), sizes[s]);
      for (int64_t count : manifest->splits(s).images_per_class()) {
        EXPECT_EQ(count, per_class[s]);
      }
    }
    auto digest = Sha256OfFile(options.out_dir + "/manifest.pb");
    ASSERT_TRUE(digest.ok());
    manifest_digest[run] = *digest;
    if (run == 1) {
      auto store = DatasetStore::Open(options.out_dir + "/manifest.pb");
      ASSERT_TRUE(store.ok()) << store.status();
      auto norm = ComputeNormalization(*store);
      ASSERT_TRUE(norm.ok());
      EXPECT_NEAR(norm->mean(0), 0.2860, 5e-4);
      EXPECT_NEAR(norm->std(0), 0.3530, 5e-4);
    }
  }
  EXPECT_EQ(manifest_digest[0], manifest_digest[1]);
  // Pinned: a change here means the split, the packing or the manifest
  // layout changed, and every store made before would differ.
  EXPECT_EQ(manifest_digest[0], kExpectedManifestSha256);
}

}  // namespace
}  // namespace vit_moe::data
