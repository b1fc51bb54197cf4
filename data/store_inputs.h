// The files a store input brings to a stage's input set (common/
// stage_files.h): the manifest and every store file it lists, so that no
// output may replace a shard the stage reads.
#ifndef VIT_MOE_DATA_STORE_INPUTS_H_
#define VIT_MOE_DATA_STORE_INPUTS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/stage_files.h"

namespace vit_moe::data {

// Adds the manifest at `manifest_path` (given as `what`) and the files it
// lists, relative to its folder. Reads only the manifest; one that cannot
// be read adds itself alone (the stage's own read then names the problem).
void AddStoreInputs(absl::string_view what, const std::string& manifest_path,
                    StageFiles* files);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_STORE_INPUTS_H_
