// A data set as a converter produces it from verified sources: decoded
// images at the store's canonical size, before the validation split. Plain
// byte vectors, no LibTorch, so converters stay cheap to build and fuzz.
#ifndef VIT_MOE_DATA_CONVERTED_H_
#define VIT_MOE_DATA_CONVERTED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.pb.h"

namespace vit_moe::data {

struct ImageSet {
  std::vector<uint8_t> pixels;  // [N, H, W, C] uint8, record after record
  std::vector<uint8_t> labels;  // [N]
  // [N] images sharing a group id are kept on one side of the validation
  // split (GTSRB: one physical track). Empty: every image is its own group.
  std::vector<int64_t> groups;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

struct ConvertedDataset {
  DatasetName dataset = DATASET_NAME_UNSPECIFIED;
  std::vector<std::string> class_names;
  int height = 0;
  int width = 0;
  int channels = 0;
  std::string resize_method;  // see DatasetManifest.resize_method
  ImageSet train;             // the official training set
  ImageSet test;              // the official test set
};

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_CONVERTED_H_
