#include "data/cifar10.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "data/cifar_record.h"
#include "data/find_file.h"

namespace vit_moe::data {

absl::StatusOr<ConvertedDataset> ConvertCifar10(const VerifiedSources& sources,
                                                const std::string& work_dir,
                                                const ExtractLimits& limits) {
  constexpr char kTarball[] = "cifar-10-binary.tar.gz";
  auto source = sources.find(kTarball);
  if (source == sources.end()) {
    return absl::NotFoundError(absl::StrCat(kTarball, ": source missing"));
  }
  const std::string root =
      (std::filesystem::path(work_dir) / "cifar10").string();
  RETURN_IF_ERROR(ExtractArchive(source->second.file.local_path, root, limits));
  return ConvertCifar10Folder(root, kTarball);
}

absl::StatusOr<ConvertedDataset> ConvertCifar10Folder(
    const std::string& root, const std::string& source_name) {
  ASSIGN_OR_RETURN(std::string folder,
                   FindFolderHolding(root, "data_batch_1.bin", source_name));
  auto read = [&](const std::string& file) {
    return ReadFile((std::filesystem::path(folder) / file).string());
  };
  ConvertedDataset data;
  data.dataset = CIFAR10;
  data.height = data.width = kCifarSide;
  data.channels = 3;
  data.resize_method = "none";
  ASSIGN_OR_RETURN(std::string meta, read("batches.meta.txt"));
  ASSIGN_OR_RETURN(data.class_names,
                   ParseCifarClassNames(meta, "batches.meta.txt"));
  for (int b = 1; b <= 5; ++b) {
    const std::string name = absl::StrCat("data_batch_", b, ".bin");
    ASSIGN_OR_RETURN(std::string bytes, read(name));
    RETURN_IF_ERROR(AppendCifarBatch(bytes, name, data.train));
  }
  ASSIGN_OR_RETURN(std::string test_bytes, read("test_batch.bin"));
  RETURN_IF_ERROR(AppendCifarBatch(test_bytes, "test_batch.bin", data.test));
  return data;
}

}  // namespace vit_moe::data
