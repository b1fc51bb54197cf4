// Writes the packed store: per split one file of uint8 HWC records and one
// file of uint8 labels, then the DatasetManifest listing every file's
// SHA-256. Each file is written atomically and the manifest last, so a
// reader never sees a manifest whose files are incomplete.
#ifndef VIT_MOE_DATA_PACK_H_
#define VIT_MOE_DATA_PACK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/converted.h"
#include "data/dataset.pb.h"
#include "data/split.h"
#include "data/store_format.h"

namespace vit_moe::data {

// Writes `<out_dir>/manifest.pb` and the store files; returns the manifest.
// `rule` and `sources` are recorded as given.
absl::StatusOr<DatasetManifest> WriteStore(
    const std::string& out_dir, const ConvertedDataset& data,
    const SplitIndices& split, const SplitRule& rule,
    const std::vector<SourceFile>& sources);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_PACK_H_
