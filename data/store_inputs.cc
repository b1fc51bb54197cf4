#include "data/store_inputs.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/proto_io.h"
#include "data/dataset.pb.h"

namespace vit_moe::data {

void AddStoreInputs(absl::string_view what, const std::string& manifest_path,
                    StageFiles* files) {
  files->AddInput(what, manifest_path);
  if (manifest_path.empty()) return;
  DatasetManifest manifest;
  if (!ReadBinaryProto(manifest_path, &manifest).ok()) return;
  const std::filesystem::path folder =
      std::filesystem::path(manifest_path).parent_path();
  const std::string listed_by = absl::StrCat(what, "=", manifest_path);
  for (const StoreFile& file : manifest.files()) {
    files->AddListedInput(listed_by, (folder / file.path()).string());
  }
  for (const Split& split : manifest.splits()) {
    for (const std::string& name : {split.images_file(), split.labels_file()}) {
      if (!name.empty()) {
        files->AddListedInput(listed_by, (folder / name).string());
      }
    }
  }
}

}  // namespace vit_moe::data
