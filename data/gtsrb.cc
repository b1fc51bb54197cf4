#include "data/gtsrb.h"

#include <glog/logging.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "data/find_file.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

constexpr int kNumClasses = 43;
constexpr char kTrainZip[] = "GTSRB_Final_Training_Images.zip";
constexpr char kTestZip[] = "GTSRB_Final_Test_Images.zip";
constexpr char kTestGtZip[] = "GTSRB_Final_Test_GT.zip";

const std::vector<std::string>& ClassNames() {
  static const auto* names = new std::vector<std::string>{
      "Speed limit (20km/h)",
      "Speed limit (30km/h)",
      "Speed limit (50km/h)",
      "Speed limit (60km/h)",
      "Speed limit (70km/h)",
      "Speed limit (80km/h)",
      "End of speed limit (80km/h)",
      "Speed limit (100km/h)",
      "Speed limit (120km/h)",
      "No passing",
      "No passing for vehicles over 3.5 metric tons",
      "Right-of-way at the next intersection",
      "Priority road",
      "Yield",
      "Stop",
      "No vehicles",
      "Vehicles over 3.5 metric tons prohibited",
      "No entry",
      "General caution",
      "Dangerous curve to the left",
      "Dangerous curve to the right",
      "Double curve",
      "Bumpy road",
      "Slippery road",
      "Road narrows on the right",
      "Road work",
      "Traffic signals",
      "Pedestrians",
      "Children crossing",
      "Bicycles crossing",
      "Beware of ice/snow",
      "Wild animals crossing",
      "End of all speed and passing limits",
      "Turn right ahead",
      "Turn left ahead",
      "Ahead only",
      "Go straight or right",
      "Go straight or left",
      "Keep right",
      "Keep left",
      "Roundabout mandatory",
      "End of no passing",
      "End of no passing by vehicles over 3.5 metric tons"};
  return *names;
}

absl::StatusOr<std::string> Extract(const VerifiedSources& sources,
                                    const std::string& zip,
                                    const std::string& work_dir,
                                    const ExtractLimits& limits) {
  auto source = sources.find(zip);
  if (source == sources.end()) {
    return absl::NotFoundError(absl::StrCat(zip, ": source missing"));
  }
  std::string target = (fs::path(work_dir) / zip).string();
  RETURN_IF_ERROR(
      ExtractArchive(source->second.file.local_path, target, limits));
  return target;
}

// Reads the PPM a CSV row names, checks its size against the row and
// appends the cropped, resized record to `out`.
absl::Status AppendImage(const fs::path& folder, const std::string& csv_name,
                         const GtsrbRow& row, ImageSet& out) {
  const std::string path = (folder / row.filename).string();
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  ASSIGN_OR_RETURN(RgbImage image, ParsePpm(bytes, path));
  if (image.width != row.width || image.height != row.height) {
    return absl::InvalidArgumentError(absl::StrCat(
        csv_name, ":", row.line, ": ", row.filename, " is ", image.width, "x",
        image.height, ", the CSV says ", row.width, "x", row.height));
  }
  std::vector<uint8_t> record = CropAndResize(image, row, kGtsrbSide);
  out.pixels.insert(out.pixels.end(), record.begin(), record.end());
  out.labels.push_back(static_cast<uint8_t>(row.class_id));
  return absl::OkStatus();
}

// "TTTTT_FFFFF.ppm" -> TTTTT.
absl::StatusOr<int64_t> TrackOf(const std::string& csv_name,
                                const GtsrbRow& row) {
  int64_t track;
  size_t underscore = row.filename.find('_');
  if (underscore == std::string::npos ||
      !absl::SimpleAtoi(row.filename.substr(0, underscore), &track) ||
      track < 0 || track >= 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat(csv_name, ":", row.line, ": file name ", row.filename,
                     " is not TTTTT_FFFFF.ppm (track_frame)"));
  }
  return track;
}

absl::Status ReadTraining(const std::string& root, ImageSet& train) {
  ASSIGN_OR_RETURN(std::string base,
                   FindFolderHolding(root, "Final_Training/Images", kTrainZip));
  const fs::path images = fs::path(base) / "Final_Training/Images";
  for (int c = 0; c < kNumClasses; ++c) {
    const fs::path folder = images / absl::StrFormat("%05d", c);
    const std::string csv_name = absl::StrFormat("GT-%05d.csv", c);
    const std::string csv_path = (folder / csv_name).string();
    ASSIGN_OR_RETURN(std::string text, ReadFile(csv_path));
    ASSIGN_OR_RETURN(std::vector<GtsrbRow> rows,
                     ParseGtsrbCsv(text, csv_path, /*require_class_id=*/true));
    for (const GtsrbRow& row : rows) {
      if (row.class_id != c) {
        return absl::InvalidArgumentError(
            absl::StrCat(csv_path, ":", row.line, ": ClassId ", row.class_id,
                         " in the folder of class ", c));
      }
      ASSIGN_OR_RETURN(int64_t track, TrackOf(csv_path, row));
      RETURN_IF_ERROR(AppendImage(folder, csv_path, row, train));
      train.groups.push_back(c * int64_t{100000} + track);
    }
    LOG(INFO) << "GTSRB class " << c << ": " << rows.size() << " images";
  }
  return absl::OkStatus();
}

absl::Status ReadTest(const std::string& images_root,
                      const std::string& gt_root, ImageSet& test) {
  ASSIGN_OR_RETURN(
      std::string base,
      FindFolderHolding(images_root, "Final_Test/Images", kTestZip));
  const fs::path images = fs::path(base) / "Final_Test/Images";
  ASSIGN_OR_RETURN(std::string gt_folder,
                   FindFolderHolding(gt_root, "GT-final_test.csv", kTestGtZip));
  const std::string csv_path =
      (fs::path(gt_folder) / "GT-final_test.csv").string();
  ASSIGN_OR_RETURN(std::string text, ReadFile(csv_path));
  ASSIGN_OR_RETURN(std::vector<GtsrbRow> rows,
                   ParseGtsrbCsv(text, csv_path, /*require_class_id=*/true));
  for (const GtsrbRow& row : rows) {
    RETURN_IF_ERROR(AppendImage(images, csv_path, row, test));
  }
  LOG(INFO) << "GTSRB test: " << rows.size() << " images";
  return absl::OkStatus();
}

}  // namespace

std::vector<uint8_t> CropAndResize(const RgbImage& image, const GtsrbRow& row,
                                   int side) {
  const int x1 = std::clamp(row.x1, 0, image.width - 1);
  const int y1 = std::clamp(row.y1, 0, image.height - 1);
  const int x2 = std::clamp(row.x2, x1, image.width - 1);
  const int y2 = std::clamp(row.y2, y1, image.height - 1);
  cv::Mat source(image.height, image.width, CV_8UC3,
                 const_cast<uint8_t*>(image.pixels.data()));
  cv::Mat roi = source(cv::Rect(x1, y1, x2 - x1 + 1, y2 - y1 + 1));
  std::vector<uint8_t> out(static_cast<size_t>(side) * side * 3);
  cv::Mat resized(side, side, CV_8UC3, out.data());
  cv::resize(roi, resized, cv::Size(side, side), 0, 0, cv::INTER_AREA);
  CHECK(resized.data == out.data()) << "OpenCV reallocated the output";
  return out;
}

absl::StatusOr<ConvertedDataset> ConvertGtsrb(const VerifiedSources& sources,
                                              const std::string& work_dir,
                                              const ExtractLimits& limits) {
  ConvertedDataset data;
  data.dataset = GTSRB;
  data.class_names = ClassNames();
  data.height = data.width = kGtsrbSide;
  data.channels = 3;
  data.resize_method = "roi_crop_then_area_resize";
  ASSIGN_OR_RETURN(std::string train_root,
                   Extract(sources, kTrainZip, work_dir, limits));
  RETURN_IF_ERROR(ReadTraining(train_root, data.train));
  ASSIGN_OR_RETURN(std::string test_root,
                   Extract(sources, kTestZip, work_dir, limits));
  ASSIGN_OR_RETURN(std::string gt_root,
                   Extract(sources, kTestGtZip, work_dir, limits));
  RETURN_IF_ERROR(ReadTest(test_root, gt_root, data.test));
  return data;
}

}  // namespace vit_moe::data
