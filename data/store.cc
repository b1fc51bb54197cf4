#include "data/store.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/status_macros.h"
#include "data/store_format.h"

namespace vit_moe::data {
namespace {

// Reads a store file into `tensor`'s memory (exactly its byte size) and
// checks the size and SHA-256 the manifest lists.
absl::Status ReadVerified(const std::string& path, const StoreFile& listed,
                          torch::Tensor& tensor) {
  const int64_t expected_bytes = tensor.numel() * tensor.element_size();
  std::error_code error;
  auto actual_bytes = std::filesystem::file_size(path, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read store file: ", error.message()));
  }
  if (static_cast<int64_t>(actual_bytes) != expected_bytes ||
      listed.size_bytes() != expected_bytes) {
    return absl::DataLossError(absl::StrCat(
        path, ": store file is ", actual_bytes, " bytes, expected ",
        expected_bytes, " (manifest lists ", listed.size_bytes(), ")"));
  }
  std::ifstream in(path, std::ios::binary);
  char* data = static_cast<char*>(tensor.data_ptr());
  in.read(data, expected_bytes);
  if (!in || in.gcount() != expected_bytes) {
    return absl::DataLossError(absl::StrCat(path, ": read failed"));
  }
  std::string actual =
      Sha256Hex(absl::string_view(data, static_cast<size_t>(expected_bytes)));
  if (actual != listed.sha256()) {
    return absl::DataLossError(
        absl::StrCat(path, ": SHA-256 mismatch: manifest lists ",
                     listed.sha256(), ", file has ", actual));
  }
  return absl::OkStatus();
}

absl::Status ValidateManifest(const std::string& path,
                              const DatasetManifest& manifest) {
  if (manifest.format_version() != kStoreFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": store format_version ", manifest.format_version(),
        " is not supported (this build reads ", kStoreFormatVersion, ")"));
  }
  if (manifest.height() <= 0 || manifest.width() <= 0 ||
      (manifest.channels() != 1 && manifest.channels() != 3)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": bad image shape ", manifest.height(), "x",
                     manifest.width(), "x", manifest.channels()));
  }
  if (manifest.class_names_size() == 0 || manifest.class_names_size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": class_names must list 1..256 classes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DatasetStore> DatasetStore::Open(
    const std::string& manifest_path) {
  DatasetStore store;
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(manifest_path));
  RETURN_IF_ERROR(ParseBinaryProto(manifest_path, bytes, &store.manifest_));
  store.manifest_sha256_ = Sha256Hex(bytes);
  const DatasetManifest& manifest = store.manifest_;
  RETURN_IF_ERROR(ValidateManifest(manifest_path, manifest));
  std::map<std::string, const StoreFile*> files;
  for (const StoreFile& file : manifest.files()) files[file.path()] = &file;
  const std::filesystem::path folder =
      std::filesystem::path(manifest_path).parent_path();
  auto listed =
      [&](const std::string& name) -> absl::StatusOr<const StoreFile*> {
    auto it = files.find(name);
    if (it == files.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          manifest_path, ": store file ", name, " is not in files"));
    }
    return it->second;
  };
  for (const Split& split : manifest.splits()) {
    SplitData data;
    data.name = split.name();
    const int64_t n = split.num_images();
    data.images = torch::empty(
        {n, manifest.height(), manifest.width(), manifest.channels()},
        torch::kUInt8);
    torch::Tensor labels = torch::empty({n}, torch::kUInt8);
    ASSIGN_OR_RETURN(const StoreFile* images_file, listed(split.images_file()));
    ASSIGN_OR_RETURN(const StoreFile* labels_file, listed(split.labels_file()));
    RETURN_IF_ERROR(ReadVerified((folder / split.images_file()).string(),
                                 *images_file, data.images));
    RETURN_IF_ERROR(ReadVerified((folder / split.labels_file()).string(),
                                 *labels_file, labels));
    if (n > 0 && labels.max().item<int64_t>() >= manifest.class_names_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          manifest_path, ": split ", split.name(),
          " has a label >= ", manifest.class_names_size(), " classes"));
    }
    data.labels = labels.to(torch::kInt64);
    store.splits_.push_back(std::move(data));
  }
  return store;
}

absl::StatusOr<const SplitData*> DatasetStore::split(
    absl::string_view name) const {
  for (const SplitData& data : splits_) {
    if (data.name == name) return &data;
  }
  return absl::NotFoundError(absl::StrCat("the store has no split \"", name,
                                          "\" (manifest ", manifest_sha256_,
                                          ")"));
}

}  // namespace vit_moe::data
