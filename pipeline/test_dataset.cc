#include "pipeline/test_dataset.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "data/converted.h"
#include "data/normalization.h"
#include "data/pack.h"
#include "data/split.h"
#include "data/store.h"

namespace vit_moe::pipeline::testing {
namespace {

constexpr int kSide = 8;

void AddImages(int classes, int per_class, std::mt19937& random,
               data::ImageSet* set) {
  std::uniform_int_distribution<int> noise(0, 60);
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < classes; ++c) {
      int top = 2 * (c % 4), left = 2 * ((c / 4) % 4);
      for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
          bool block = y >= top && y < top + 2 && x >= left && x < left + 2;
          set->pixels.push_back(
              static_cast<uint8_t>(noise(random) + (block ? 180 : 0)));
        }
      }
      set->labels.push_back(static_cast<uint8_t>(c));
    }
  }
}

}  // namespace

absl::StatusOr<TestDataset> WriteTestDataset(const std::string& dir,
                                             int classes, int per_class) {
  data::ConvertedDataset converted;
  converted.dataset = data::FASHION_MNIST;
  for (int c = 0; c < classes; ++c) {
    converted.class_names.push_back(absl::StrCat("class", c));
  }
  converted.height = kSide;
  converted.width = kSide;
  converted.channels = 1;
  converted.resize_method = "none";
  std::mt19937 random(17);
  AddImages(classes, per_class, random, &converted.train);
  AddImages(classes, 2, random, &converted.test);

  data::SplitRule rule;
  rule.set_method("stratified_per_class");
  rule.set_validation_fraction(0.25);
  rule.set_seed(5);
  ASSIGN_OR_RETURN(
      data::SplitIndices split,
      data::SplitTrainValidation(converted.train, classes,
                                 rule.validation_fraction(), rule.seed()));
  RETURN_IF_ERROR(
      data::WriteStore(dir, converted, split, rule, /*sources=*/{}).status());
  TestDataset result;
  result.manifest = absl::StrCat(dir, "/", data::kManifestFileName);
  result.normalization = dir + "/normalization.pb";
  ASSIGN_OR_RETURN(data::DatasetStore store,
                   data::DatasetStore::Open(result.manifest));
  ASSIGN_OR_RETURN(data::Normalization norm, data::ComputeNormalization(store));
  RETURN_IF_ERROR(WriteBinaryProto(result.normalization, norm));
  return result;
}

}  // namespace vit_moe::pipeline::testing
