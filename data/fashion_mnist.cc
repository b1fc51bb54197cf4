#include "data/fashion_mnist.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/status_macros.h"
#include "data/archive_extract.h"
#include "data/idx.h"

namespace vit_moe::data {
namespace {

constexpr int kNumClasses = 10;

absl::StatusOr<std::string> DecompressVerified(const VerifiedSources& sources,
                                               const std::string& name) {
  auto it = sources.find(name);
  if (it == sources.end()) {
    return absl::NotFoundError(absl::StrCat(name, ": source missing"));
  }
  const VerifiedSource& source = it->second;
  ASSIGN_OR_RETURN(std::string content, GunzipFile(source.file.local_path));
  const std::string what =
      absl::StrCat(name, " (", source.file.location, ", decompressed)");
  RETURN_IF_ERROR(CheckDigest(what, "SHA-256", source.pin.content_sha256(),
                              Sha256Hex(content)));
  if (!source.pin.content_md5().empty()) {
    Digester md5(DigestKind::kMd5);
    md5.Update(content);
    RETURN_IF_ERROR(
        CheckDigest(what, "MD5", source.pin.content_md5(), md5.FinishHex()));
  }
  return content;
}

absl::StatusOr<ImageSet> ReadPair(const VerifiedSources& sources,
                                  const std::string& images_name,
                                  const std::string& labels_name) {
  ASSIGN_OR_RETURN(std::string image_bytes,
                   DecompressVerified(sources, images_name));
  ASSIGN_OR_RETURN(IdxImages images, ParseIdxImages(image_bytes, images_name));
  ASSIGN_OR_RETURN(std::string label_bytes,
                   DecompressVerified(sources, labels_name));
  ASSIGN_OR_RETURN(std::vector<uint8_t> labels,
                   ParseIdxLabels(label_bytes, labels_name));
  if (images.rows != 28 || images.cols != 28) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_name, ": images are ", images.rows, "x",
                     images.cols, ", Fashion-MNIST has 28x28"));
  }
  if (static_cast<int64_t>(labels.size()) != images.count) {
    return absl::InvalidArgumentError(
        absl::StrCat(labels_name, ": ", labels.size(), " labels for ",
                     images.count, " images in ", images_name));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= kNumClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(labels_name, ": label ", int{labels[i]}, " of item ", i,
                       " is not a Fashion-MNIST class (0..9)"));
    }
  }
  ImageSet set;
  set.pixels = std::move(images.pixels);
  set.labels = std::move(labels);
  return set;
}

}  // namespace

absl::StatusOr<ConvertedDataset> ConvertFashionMnist(
    const VerifiedSources& sources) {
  ConvertedDataset data;
  data.dataset = FASHION_MNIST;
  data.class_names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                      "Coat",        "Sandal",    "Shirt",    "Sneaker",
                      "Bag",         "Ankle boot"};
  data.height = 28;
  data.width = 28;
  data.channels = 1;
  data.resize_method = "none";
  ASSIGN_OR_RETURN(data.train, ReadPair(sources, "train-images-idx3-ubyte.gz",
                                        "train-labels-idx1-ubyte.gz"));
  ASSIGN_OR_RETURN(data.test, ReadPair(sources, "t10k-images-idx3-ubyte.gz",
                                       "t10k-labels-idx1-ubyte.gz"));
  return data;
}

}  // namespace vit_moe::data
