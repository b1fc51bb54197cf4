#include "eval/predict.h"

#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "data/gtsrb_csv.h"
#include "data/image_file.h"

namespace vit_moe::eval {
namespace {

namespace fs = std::filesystem;

std::string FileName(const std::string& path) {
  return fs::path(path).filename().string();
}

// The part of `image` inside `roi`, after checking that `roi` describes it.
absl::StatusOr<cv::Mat> Crop(const cv::Mat& image, const std::string& path,
                             const Roi& roi) {
  if (roi.width != 0 && (image.cols != roi.width || image.rows != roi.height)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is ", image.cols, "x", image.rows, ", ",
                     roi.source, " says ", roi.width, "x", roi.height));
  }
  if (roi.x2 >= image.cols || roi.y2 >= image.rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": region ", roi.x1, ",", roi.y1, ",", roi.x2, ",", roi.y2,
        " from ", roi.source, " is not inside the ", image.cols, "x",
        image.rows, " image (corners inclusive, 0-based)"));
  }
  return image(
      cv::Rect(roi.x1, roi.y1, roi.x2 - roi.x1 + 1, roi.y2 - roi.y1 + 1));
}

}  // namespace

absl::StatusOr<Roi> ParseRoiFlag(absl::string_view value) {
  const std::vector<absl::string_view> fields = absl::StrSplit(value, ',');
  Roi roi;
  roi.source = "--roi";
  int* corners[] = {&roi.x1, &roi.y1, &roi.x2, &roi.y2};
  bool ok = fields.size() == 4;
  for (size_t i = 0; ok && i < 4; ++i) {
    ok = absl::SimpleAtoi(fields[i], corners[i]) && *corners[i] >= 0;
  }
  if (!ok || roi.x1 > roi.x2 || roi.y1 > roi.y2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--roi=", value,
        ": expected x1,y1,x2,y2, inclusive pixel corners with 0 <= x1 <= x2 "
        "and 0 <= y1 <= y2"));
  }
  return roi;
}

absl::StatusOr<std::map<std::string, Roi>> ReadRoiCsv(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  ASSIGN_OR_RETURN(const std::vector<data::GtsrbRow> rows,
                   data::ParseGtsrbCsv(text, path, /*require_class_id=*/false));
  std::map<std::string, Roi> rois;
  for (const data::GtsrbRow& row : rows) {
    Roi roi{row.x1,
            row.y1,
            row.x2,
            row.y2,
            row.width,
            row.height,
            absl::StrCat(path, ":", row.line)};
    const auto [it, added] = rois.emplace(row.filename, std::move(roi));
    if (!added) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", row.line, ": ", row.filename,
                       " already has a row (", it->second.source, ")"));
    }
  }
  return rois;
}

absl::StatusOr<Roi> RoiOfImage(const std::map<std::string, Roi>& rois,
                               const std::string& csv_path,
                               const std::string& image) {
  const auto it = rois.find(FileName(image));
  if (it == rois.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        image, ": no row for ", FileName(image), " in --roi_csv ", csv_path));
  }
  return it->second;
}

absl::StatusOr<torch::Tensor> ReadImageForModel(const std::string& path,
                                                int64_t size, int64_t channels,
                                                const std::optional<Roi>& roi) {
  CHECK(channels == 1 || channels == 3) << channels;
  ASSIGN_OR_RETURN(const std::string bytes, data::ReadImageFile(path));
  ASSIGN_OR_RETURN(cv::Mat image,
                   data::DecodeImageFile(path, bytes,
                                         channels == 1 ? cv::IMREAD_GRAYSCALE
                                                       : cv::IMREAD_COLOR));
  if (roi.has_value()) {
    ASSIGN_OR_RETURN(image, Crop(image, path, *roi));
  }
  // The store keeps RGB; OpenCV decodes to BGR.
  if (channels == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  if (image.rows != size || image.cols != size) {
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    image = resized;
  }
  // A crop of the full size is a view with the full image's row stride.
  if (!image.isContinuous()) image = image.clone();
  return torch::from_blob(image.data, {size, size, channels}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
}

absl::StatusOr<std::vector<std::string>> ListImageArguments(
    const std::vector<std::string>& arguments) {
  std::vector<std::string> images;
  for (const std::string& argument : arguments) {
    std::error_code error;
    if (!fs::is_directory(argument, error)) {
      images.push_back(argument);
      continue;
    }
    std::vector<std::string> found;
    fs::directory_iterator it(argument, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
      std::error_code status_error;
      if (fs::is_regular_file(it->path(), status_error) &&
          data::HasImageExtension(it->path().string())) {
        found.push_back(it->path().string());
      }
    }
    if (error) {
      return absl::InvalidArgumentError(
          absl::StrCat(argument, ": cannot list: ", error.message()));
    }
    if (found.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(argument,
                       ": folder holds no image files (.png .jpg .jpeg .ppm "
                       ".pgm .bmp; sub-folders are not searched)"));
    }
    std::sort(found.begin(), found.end());
    images.insert(images.end(), found.begin(), found.end());
  }
  return images;
}

std::vector<std::vector<ClassScore>> TopClasses(
    const torch::Tensor& probabilities, const std::vector<std::string>& names,
    int64_t k) {
  CHECK_EQ(probabilities.dim(), 2);
  k = std::min<int64_t>(k, probabilities.size(1));
  auto [values, indices] =
      probabilities.to(torch::kCPU, torch::kFloat64).topk(k, /*dim=*/1);
  std::vector<std::vector<ClassScore>> result(probabilities.size(0));
  for (int64_t b = 0; b < probabilities.size(0); ++b) {
    for (int64_t j = 0; j < k; ++j) {
      ClassScore s;
      s.label = indices[b][j].item<int64_t>();
      s.probability = values[b][j].item<double>();
      s.name = s.label < static_cast<int64_t>(names.size())
                   ? names[s.label]
                   : absl::StrCat("class ", s.label);
      result[b].push_back(std::move(s));
    }
  }
  return result;
}

}  // namespace vit_moe::eval
