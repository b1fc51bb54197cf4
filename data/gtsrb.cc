#include "data/gtsrb.h"

#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/atomic_file.h"
#include "common/status_macros.h"
#include "data/find_file.h"
#include "data/image_folder.h"

namespace vit_moe::data {
namespace {

namespace fs = std::filesystem;

constexpr int kNumClasses = 43;
constexpr char kTrainZip[] = "GTSRB_Final_Training_Images.zip";
constexpr char kTestZip[] = "GTSRB_Final_Test_Images.zip";
constexpr char kTestGtZip[] = "GTSRB_Final_Test_GT.zip";
// Where the class folders and the test images lie: as published, and in
// the seed's layout (Training/000NN, Test/Images, Test/GT-final_test.csv).
constexpr char kOfficialTraining[] = "Final_Training/Images";
constexpr char kOfficialTest[] = "Final_Test/Images";
constexpr char kSeedTraining[] = "Training/00000";
constexpr char kSeedTest[] = "Test/Images";
constexpr char kTestCsv[] = "GT-final_test.csv";
// The Kaggle re-distribution: Train.csv and Test.csv beside Train/ and
// Test/ (and Meta/, unused).
constexpr char kKaggleTrain[] = "Train.csv";
constexpr char kKaggleTest[] = "Test.csv";

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

// Reads `classes` (holding 00000..00042, each with its GT-000NN.csv).
absl::Status ReadTraining(const fs::path& classes, ImageSet& train) {
  for (int c = 0; c < kNumClasses; ++c) {
    const fs::path folder = classes / absl::StrFormat("%05d", c);
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

// Reads the test images in `images` named by `csv_path`.
absl::Status ReadTest(const fs::path& images, const std::string& csv_path,
                      ImageSet& test) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(csv_path));
  ASSIGN_OR_RETURN(std::vector<GtsrbRow> rows,
                   ParseGtsrbCsv(text, csv_path, /*require_class_id=*/true));
  for (const GtsrbRow& row : rows) {
    RETURN_IF_ERROR(AppendImage(images, csv_path, row, test));
  }
  LOG(INFO) << "GTSRB test: " << rows.size() << " images";
  return absl::OkStatus();
}

// The Kaggle layout: `csv` (Train.csv or Test.csv) names PNGs by paths
// relative to `base`. Training file names are CCCCC_TTTTT_FFFFF.png (class,
// track, frame); their tracks group the split like the published set's.
absl::Status ReadKaggle(const fs::path& base, const std::string& csv,
                        bool training, ImageSet& out) {
  const std::string csv_path = (base / csv).string();
  ASSIGN_OR_RETURN(std::string text, ReadFile(csv_path));
  ASSIGN_OR_RETURN(std::vector<GtsrbRow> rows,
                   ParseGtsrbKaggleCsv(text, csv_path));
  for (const GtsrbRow& row : rows) {
    const std::string path = (base / row.filename).string();
    absl::StatusOr<std::string> read = ReadImageFile(path);
    if (!read.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(csv_path, ":", row.line, ": ", read.status().message()));
    }
    std::string bytes = std::move(read).value();
    ASSIGN_OR_RETURN(cv::Mat bgr,
                     DecodeImageFile(path, bytes, cv::IMREAD_COLOR));
    if (bgr.cols != row.width || bgr.rows != row.height) {
      return absl::InvalidArgumentError(absl::StrCat(
          csv_path, ":", row.line, ": ", row.filename, " is ", bgr.cols, "x",
          bgr.rows, ", the CSV says ", row.width, "x", row.height));
    }
    RgbImage image;
    image.width = bgr.cols;
    image.height = bgr.rows;
    image.pixels.resize(static_cast<size_t>(bgr.total()) * 3);
    cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.pixels.data());
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    std::vector<uint8_t> record = CropAndResize(image, row, kGtsrbSide);
    out.pixels.insert(out.pixels.end(), record.begin(), record.end());
    out.labels.push_back(static_cast<uint8_t>(row.class_id));
    if (training) {
      const std::string stem = fs::path(row.filename).stem().string();
      std::vector<std::string> parts = absl::StrSplit(stem, '_');
      int64_t track = 0;
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &track) ||
          track < 0 || track >= 100000) {
        return absl::InvalidArgumentError(
            absl::StrCat(csv_path, ":", row.line, ": file name ", row.filename,
                         " is not CCCCC_TTTTT_FFFFF.png (class_track_frame)"));
      }
      out.groups.push_back(row.class_id * int64_t{100000} + track);
    }
  }
  LOG(INFO) << "GTSRB " << csv << ": " << rows.size() << " images";
  return absl::OkStatus();
}

ConvertedDataset EmptyGtsrb() {
  ConvertedDataset data;
  data.dataset = GTSRB;
  data.class_names = ClassNames();
  data.height = data.width = kGtsrbSide;
  data.channels = 3;
  data.resize_method = "roi_crop_then_area_resize";
  return data;
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
  ConvertedDataset data = EmptyGtsrb();
  ASSIGN_OR_RETURN(std::string train_root,
                   Extract(sources, kTrainZip, work_dir, limits));
  ASSIGN_OR_RETURN(std::string train_base,
                   FindFolderHolding(train_root, kOfficialTraining, kTrainZip));
  RETURN_IF_ERROR(
      ReadTraining(fs::path(train_base) / kOfficialTraining, data.train));
  ASSIGN_OR_RETURN(std::string test_root,
                   Extract(sources, kTestZip, work_dir, limits));
  ASSIGN_OR_RETURN(std::string test_base,
                   FindFolderHolding(test_root, kOfficialTest, kTestZip));
  ASSIGN_OR_RETURN(std::string gt_root,
                   Extract(sources, kTestGtZip, work_dir, limits));
  ASSIGN_OR_RETURN(std::string gt_folder,
                   FindFolderHolding(gt_root, kTestCsv, kTestGtZip));
  RETURN_IF_ERROR(ReadTest(fs::path(test_base) / kOfficialTest,
                           (fs::path(gt_folder) / kTestCsv).string(),
                           data.test));
  return data;
}

absl::StatusOr<ConvertedDataset> ConvertGtsrbFolder(
    const std::string& root, const std::string& work_dir,
    const ExtractLimits& limits) {
  // Archives lying in the folder (the seed's GTSRB-Training_fixed.zip, the
  // published test zips) are extracted first and searched after it.
  std::vector<std::string> roots = {root};
  std::error_code error;
  std::vector<fs::path> zips;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".zip") {
      zips.push_back(entry.path());
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(root, ": cannot list: ", error.message()));
  }
  std::sort(zips.begin(), zips.end());
  for (const fs::path& zip : zips) {
    const std::string target = (fs::path(work_dir) / zip.filename()).string();
    RETURN_IF_ERROR(ExtractArchive(zip.string(), target, limits));
    roots.push_back(target);
  }
  // The first root holding `relative`, searched in order.
  auto find =
      [&roots](const std::string& relative) -> absl::StatusOr<fs::path> {
    for (const std::string& r : roots) {
      absl::StatusOr<std::string> base = FindFolderHolding(r, relative, r);
      if (base.ok()) return fs::path(*base) / relative;
    }
    return absl::NotFoundError(absl::StrCat(
        roots.front(), ": no ", relative,
        " (expected GTSRB as published, Final_Training/Images/000NN and "
        "Final_Test/Images with GT-final_test.csv; in the seed's layout, "
        "Training/000NN and Test/Images with Test/GT-final_test.csv; zips "
        "of either; or Kaggle's Train.csv and Test.csv beside Train/ and "
        "Test/)"));
  };
  ConvertedDataset data = EmptyGtsrb();
  absl::StatusOr<fs::path> classes = find(kOfficialTraining);
  if (!classes.ok()) classes = find(kSeedTraining);
  if (!classes.ok()) {
    absl::StatusOr<fs::path> kaggle = find(kKaggleTrain);
    if (!kaggle.ok()) return classes.status();
    const fs::path base = kaggle->parent_path();
    RETURN_IF_ERROR(ReadKaggle(base, kKaggleTrain, true, data.train));
    RETURN_IF_ERROR(ReadKaggle(base, kKaggleTest, false, data.test));
    return data;
  }
  // The folder of class 00000 was found; its parent holds them all.
  RETURN_IF_ERROR(ReadTraining(
      classes->filename() == "00000" ? classes->parent_path() : *classes,
      data.train));
  absl::StatusOr<fs::path> images = find(kOfficialTest);
  if (!images.ok()) images = find(kSeedTest);
  if (!images.ok()) return images.status();
  ASSIGN_OR_RETURN(fs::path csv, find(kTestCsv));
  RETURN_IF_ERROR(ReadTest(*images, csv.string(), data.test));
  return data;
}

}  // namespace vit_moe::data
