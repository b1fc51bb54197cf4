#include "data/pack.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "common/digest.h"
#include "common/proto_io.h"
#include "common/status_macros.h"

namespace vit_moe::data {
namespace {

// Streams `records` (selected by `indices`, each `record_size` bytes) into
// `<out_dir>/<name>` and records the file in the manifest.
absl::Status WriteRecords(const std::string& out_dir, const std::string& name,
                          const std::vector<uint8_t>& records,
                          size_t record_size,
                          const std::vector<int64_t>& indices,
                          DatasetManifest& manifest) {
  const std::string path = (std::filesystem::path(out_dir) / name).string();
  ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::Open(path));
  Digester digest(DigestKind::kSha256);
  std::string buffer;
  constexpr size_t kFlushBytes = 1 << 20;
  for (int64_t i : indices) {
    buffer.append(reinterpret_cast<const char*>(records.data()) +
                      static_cast<size_t>(i) * record_size,
                  record_size);
    if (buffer.size() >= kFlushBytes) {
      digest.Update(buffer);
      RETURN_IF_ERROR(writer.Append(buffer));
      buffer.clear();
    }
  }
  digest.Update(buffer);
  RETURN_IF_ERROR(writer.Append(buffer));
  RETURN_IF_ERROR(writer.Commit());
  StoreFile* file = manifest.add_files();
  file->set_path(name);
  file->set_sha256(digest.FinishHex());
  file->set_size_bytes(static_cast<int64_t>(indices.size() * record_size));
  return absl::OkStatus();
}

std::vector<int64_t> AllIndices(int64_t n) {
  std::vector<int64_t> indices(n);
  for (int64_t i = 0; i < n; ++i) indices[i] = i;
  return indices;
}

absl::Status WriteSplit(const std::string& out_dir, const std::string& name,
                        const ImageSet& images,
                        const std::vector<int64_t>& indices,
                        const ConvertedDataset& data,
                        DatasetManifest& manifest) {
  const size_t record_size =
      static_cast<size_t>(data.height) * data.width * data.channels;
  Split* split = manifest.add_splits();
  split->set_name(name);
  split->set_num_images(static_cast<int64_t>(indices.size()));
  std::vector<int64_t> per_class(data.class_names.size(), 0);
  for (int64_t i : indices) ++per_class[images.labels[i]];
  for (int64_t count : per_class) split->add_images_per_class(count);
  split->set_images_file(name + "_images.u8");
  split->set_labels_file(name + "_labels.u8");
  RETURN_IF_ERROR(WriteRecords(out_dir, split->images_file(), images.pixels,
                               record_size, indices, manifest));
  return WriteRecords(out_dir, split->labels_file(), images.labels, 1, indices,
                      manifest);
}

}  // namespace

absl::StatusOr<DatasetManifest> WriteStore(
    const std::string& out_dir, const ConvertedDataset& data,
    const SplitIndices& split, const SplitRule& rule,
    const std::vector<SourceFile>& sources) {
  DatasetManifest manifest;
  manifest.set_format_version(kStoreFormatVersion);
  manifest.set_dataset(data.dataset);
  for (const std::string& name : data.class_names) {
    manifest.add_class_names(name);
  }
  manifest.set_height(data.height);
  manifest.set_width(data.width);
  manifest.set_channels(data.channels);
  manifest.set_resize_method(data.resize_method);
  for (const SourceFile& source : sources) *manifest.add_sources() = source;
  *manifest.mutable_split_rule() = rule;
  RETURN_IF_ERROR(
      WriteSplit(out_dir, "train", data.train, split.train, data, manifest));
  RETURN_IF_ERROR(WriteSplit(out_dir, "validation", data.train,
                             split.validation, data, manifest));
  RETURN_IF_ERROR(WriteSplit(out_dir, "test", data.test,
                             AllIndices(data.test.size()), data, manifest));
  RETURN_IF_ERROR(WriteBinaryProto(
      (std::filesystem::path(out_dir) / kManifestFileName).string(), manifest));
  return manifest;
}

}  // namespace vit_moe::data
