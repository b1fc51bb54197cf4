#include "data/image_folder.h"

#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxClasses = 256;  // labels are stored as uint8

// The entries of `dir` (following symlinks), split into sub-folders and
// files, each sorted by name. A broken link or a link loop is an error
// naming it.
struct Entries {
  std::vector<fs::path> folders;
  std::vector<fs::path> files;
};

absl::StatusOr<Entries> ListFolder(const fs::path& dir) {
  Entries entries;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir.string(), ": cannot list: ", error.message()));
  }
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) break;
    const fs::file_status status = fs::status(it->path(), error);
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->path().string(), ": ", error.message()));
    }
    if (fs::is_directory(status)) {
      entries.folders.push_back(it->path());
    } else if (fs::is_regular_file(status)) {
      entries.files.push_back(it->path());
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir.string(), ": cannot list: ", error.message()));
  }
  std::sort(entries.folders.begin(), entries.folders.end());
  std::sort(entries.files.begin(), entries.files.end());
  return entries;
}

struct ListedImage {
  std::string name;  // file name, the order within the split
  fs::path path;
  int label = 0;
};

// Counts an entry the import leaves out and keeps the first one's path, so
// that a user whose images sit one folder too deep sees where.
void Skip(const fs::path& path, Skipped* skipped) {
  if (skipped->count++ == 0) skipped->first = path.string();
}

// The images of one split folder in storage order, after checking every
// class folder has some and no file name occurs in two classes.
absl::StatusOr<std::vector<ListedImage>> ListSplit(
    const fs::path& split_dir, const std::map<std::string, int>& classes,
    Skipped* skipped) {
  ASSIGN_OR_RETURN(Entries entries, ListFolder(split_dir));
  for (const fs::path& file : entries.files) Skip(file, skipped);
  std::vector<ListedImage> images;
  for (const fs::path& class_dir : entries.folders) {
    auto label = classes.find(class_dir.filename().string());
    if (label == classes.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          class_dir.string(), ": no class of that name in train/"));
    }
    ASSIGN_OR_RETURN(Entries files, ListFolder(class_dir));
    for (const fs::path& folder : files.folders) Skip(folder, skipped);
    int64_t found = 0;
    for (const fs::path& file : files.files) {
      if (!HasImageExtension(file.string())) {
        Skip(file, skipped);
        continue;
      }
      images.push_back({file.filename().string(), file, label->second});
      ++found;
    }
    if (found == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          class_dir.string(),
          ": class folder holds no images (.png .jpg .jpeg .ppm .pgm .bmp)"));
    }
  }
  std::sort(images.begin(), images.end(),
            [](const ListedImage& a, const ListedImage& b) {
              return a.name != b.name ? a.name < b.name : a.label < b.label;
            });
  for (size_t i = 1; i < images.size(); ++i) {
    if (images[i].name == images[i - 1].name) {
      return absl::InvalidArgumentError(absl::StrCat(
          images[i - 1].path.string(), " and ", images[i].path.string(),
          ": the same file name in two classes (an image has one class, and "
          "names order the split)"));
    }
  }
  return images;
}

// Decodes `bytes` (from `path`) to side x side x channels uint8 RGB or grey.
absl::Status DecodeInto(const fs::path& path, const std::string& bytes,
                        const ImageFolderOptions& options, bool* resized,
                        std::vector<uint8_t>* pixels) {
  ASSIGN_OR_RETURN(cv::Mat image,
                   DecodeImageFile(path.string(), bytes, cv::IMREAD_UNCHANGED));
  if (image.depth() != CV_8U) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": ", 8 * image.elemSize1(),
                     "-bit samples; only 8-bit images are imported"));
  }
  if (image.channels() != options.channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.string(), ": ", image.channels(),
        " channel(s), but the import "
        "asks for ",
        options.channels,
        " (--channels); a folder must not mix colour and grey images"));
  }
  if (options.channels == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  if (image.rows != options.side || image.cols != options.side) {
    const bool shrink =
        image.rows >= options.side && image.cols >= options.side;
    cv::Mat out;
    cv::resize(image, out, cv::Size(options.side, options.side), 0, 0,
               shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
    image = out;
    *resized = true;
  }
  if (!image.isContinuous()) image = image.clone();
  pixels->insert(pixels->end(), image.data,
                 image.data + image.total() * image.elemSize());
  return absl::OkStatus();
}

// Decodes one split's images into `set` and returns its SourceFile.
absl::StatusOr<SourceFile> ReadSplit(const std::string& split,
                                     const fs::path& split_dir,
                                     const std::vector<ListedImage>& images,
                                     const std::vector<std::string>& names,
                                     const ImageFolderOptions& options,
                                     bool* resized, ImageSet* set) {
  Digester listing(DigestKind::kSha256);
  int64_t bytes_read = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const ListedImage& image = images[i];
    ASSIGN_OR_RETURN(std::string bytes, ReadImageFile(image.path.string()));
    bytes_read += static_cast<int64_t>(bytes.size());
    listing.Update(absl::StrCat(names[image.label], "/", image.name, "\t",
                                Sha256Hex(bytes), "\n"));
    RETURN_IF_ERROR(
        DecodeInto(image.path, bytes, options, resized, &set->pixels));
    set->labels.push_back(static_cast<uint8_t>(image.label));
    if ((i + 1) % 5000 == 0) {
      LOG(INFO) << split << ": " << i + 1 << " of " << images.size()
                << " images decoded";
    }
  }
  SourceFile source;
  source.set_name(split + "/");
  source.set_location(split_dir.string());
  source.set_sha256(listing.FinishHex());
  source.set_size_bytes(bytes_read);
  return source;
}

}  // namespace

absl::StatusOr<ImportedImages> ImportImageFolder(
    const std::string& root, const ImageFolderOptions& options) {
  if (options.side < 1 || options.side > kMaxImageFolderSide) {
    return absl::InvalidArgumentError(
        absl::StrCat("--side must be 1..", kMaxImageFolderSide, " (got ",
                     options.side, ")"));
  }
  if (options.channels != 1 && options.channels != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("--channels must be 1 or 3 (got ", options.channels, ")"));
  }
  const fs::path base(root);
  const fs::path train_dir = base / "train";
  std::error_code error;
  if (!fs::is_directory(train_dir, error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        train_dir.string(),
        ": missing; an image folder holds train/<class>/<images> (and "
        "optionally validation/ and test/)"));
  }
  ASSIGN_OR_RETURN(Entries train_classes, ListFolder(train_dir));
  if (train_classes.folders.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(train_dir.string(), ": no class folders"));
  }
  if (train_classes.folders.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(train_dir.string(), ": one class folder (",
                     train_classes.folders.front().filename().string(),
                     "); a classifier needs at least 2 classes"));
  }
  if (train_classes.folders.size() > kMaxClasses) {
    return absl::InvalidArgumentError(absl::StrCat(
        train_dir.string(), ": ", train_classes.folders.size(),
        " class folders; at most ", kMaxClasses, " classes are supported"));
  }
  ImportedImages out;
  ConvertedDataset& data = out.data;
  data.dataset = IMAGE_FOLDER;
  data.height = data.width = options.side;
  data.channels = options.channels;
  std::map<std::string, int> classes;
  for (const fs::path& folder : train_classes.folders) {
    const std::string name = folder.filename().string();
    RETURN_IF_ERROR(
        CheckUtf8(name, absl::StrCat(train_dir.string(), ": class folder")));
    classes[name] = static_cast<int>(data.class_names.size());
    data.class_names.push_back(name);
  }

  bool resized = false;
  int64_t train_count = 0;
  for (const std::string split : {"train", "validation", "test"}) {
    const fs::path dir = base / split;
    if (split != "train" && !fs::exists(dir, error)) continue;
    if (!fs::is_directory(dir, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir.string(), ": not a folder"));
    }
    ASSIGN_OR_RETURN(std::vector<ListedImage> images,
                     ListSplit(dir, classes, &out.skipped));
    if (images.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir.string(), ": no images"));
    }
    ImageSet* set = split == "test" ? &data.test : &data.train;
    ASSIGN_OR_RETURN(SourceFile source,
                     ReadSplit(split, dir, images, data.class_names, options,
                               &resized, set));
    out.sources.push_back(source);
    LOG(INFO) << split << ": " << images.size() << " images in "
              << classes.size() << " classes";
    if (split == "train") train_count = data.train.size();
  }
  data.resize_method =
      resized ? "stretch_to_square_inter_area_down_linear_up" : "none";

  out.given_validation = data.train.size() - train_count;
  return out;
}

}  // namespace vit_moe::data
