#include "eval/predict.h"

#include <glog/logging.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "data/image_file.h"

namespace vit_moe::eval {

absl::StatusOr<torch::Tensor> ReadImageForModel(const std::string& path,
                                                int64_t size,
                                                int64_t channels) {
  CHECK(channels == 1 || channels == 3) << channels;
  ASSIGN_OR_RETURN(const std::string bytes, data::ReadImageFile(path));
  ASSIGN_OR_RETURN(cv::Mat image,
                   data::DecodeImageFile(path, bytes,
                                         channels == 1 ? cv::IMREAD_GRAYSCALE
                                                       : cv::IMREAD_COLOR));
  // The store keeps RGB; OpenCV decodes to BGR.
  if (channels == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  if (image.rows != size || image.cols != size) {
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    image = resized;
  }
  CHECK(image.isContinuous());
  return torch::from_blob(image.data, {size, size, channels}, torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
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
