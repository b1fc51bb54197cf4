// CIFAR-10 from the binary tarball (cifar-10-binary.tar.gz): 32x32x3 images,
// 10 classes, data_batch_1..5 as the official training set, test_batch as
// the test set, class names from batches.meta.txt. Stored without resize.
#ifndef VIT_MOE_DATA_CIFAR10_H_
#define VIT_MOE_DATA_CIFAR10_H_

#include <string>

#include "absl/status/statusor.h"
#include "data/archive_extract.h"
#include "data/converted.h"
#include "data/fetch.h"

namespace vit_moe::data {

// Extracts the tarball under `work_dir` (within `limits`) and converts it.
absl::StatusOr<ConvertedDataset> ConvertCifar10(const VerifiedSources& sources,
                                                const std::string& work_dir,
                                                const ExtractLimits& limits);

// CIFAR-10 already extracted: `root` is, or holds within three levels, the
// cifar-10-batches-bin/ folder (data_batch_1..5.bin, test_batch.bin,
// batches.meta.txt). `source_name` names the source in errors.
absl::StatusOr<ConvertedDataset> ConvertCifar10Folder(
    const std::string& root, const std::string& source_name);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_CIFAR10_H_
