// Constants of the packed store layout shared by its writer (pack.h) and
// reader (store.h), kept apart so the reader does not pull in the stage's
// download and conversion code.
#ifndef VIT_MOE_DATA_STORE_FORMAT_H_
#define VIT_MOE_DATA_STORE_FORMAT_H_

namespace vit_moe::data {

// DatasetManifest.format_version this code writes and reads. Version 1:
// per split "<split>_images.u8" (N*H*W*C uint8, HWC) and "<split>_labels.u8"
// (N uint8), beside manifest.pb.
inline constexpr int kStoreFormatVersion = 1;
inline constexpr char kManifestFileName[] = "manifest.pb";

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_STORE_FORMAT_H_
