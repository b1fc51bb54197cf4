// Classifying image files the way the pipeline sees its data: decoded with
// OpenCV, cropped to a region of interest where one is given, brought to
// the model's channels and size as the data stage stores images, normalised
// with the training split's statistics.
#ifndef VIT_MOE_EVAL_PREDICT_H_
#define VIT_MOE_EVAL_PREDICT_H_

#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vit_moe::eval {

// A region of interest in pixels, corners inclusive (GTSRB's convention:
// Roi.X2 is the last column of the sign).
struct Roi {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  // The image size a GTSRB CSV row gives with its region, checked against
  // the decoded image; 0 when unknown (--roi).
  int width = 0, height = 0;
  // Where the region came from, for messages: "--roi" or "GT.csv:7".
  std::string source;
};

// A --roi value "x1,y1,x2,y2": four integers, none negative, x1 <= x2 and
// y1 <= y2. InvalidArgument naming the value otherwise.
absl::StatusOr<Roi> ParseRoiFlag(absl::string_view value);

// A GTSRB annotation CSV (data/gtsrb_csv.h, with or without ClassId) as
// regions by file name. InvalidArgument naming the file (and line) when it
// cannot be read, has a bad row, or lists a file name twice.
absl::StatusOr<std::map<std::string, Roi>> ReadRoiCsv(const std::string& path);

// The region of `image`, matched by its file name (no folder part, as the
// CSV names files), in `rois` read from `csv_path`; InvalidArgument naming
// both when the CSV has no row for it.
absl::StatusOr<Roi> RoiOfImage(const std::map<std::string, Roi>& rois,
                               const std::string& csv_path,
                               const std::string& image);

// Reads a PPM, PNG or JPEG file (anything OpenCV decodes) as uint8
// [channels, size, size]: grey for channels = 1, RGB for 3; cropped to
// `roi` first when given (the data stage crops GTSRB's images the same
// way), then resized with area interpolation (the data stage's resize, as
// for GTSRB's ROIs) when not already size x size. InvalidArgument naming
// the file when it cannot be decoded, when it is not the size `roi` was
// given for, or when `roi` does not lie inside it.
absl::StatusOr<torch::Tensor> ReadImageForModel(
    const std::string& path, int64_t size, int64_t channels,
    const std::optional<Roi>& roi = std::nullopt);

// The image files that `arguments` name: a file as given (whatever its
// name; reading it says whether it is an image), and for a folder the files
// directly in it with an image extension (data::HasImageExtension), sorted
// by name. Sub-folders are not entered, so that a folder of GTSRB's
// training layout (one sub-folder and one CSV per class) is not mixed up.
// InvalidArgument naming a folder that cannot be listed or holds no image.
absl::StatusOr<std::vector<std::string>> ListImageArguments(
    const std::vector<std::string>& arguments);

struct ClassScore {
  int64_t label = 0;
  std::string name;  // the manifest's class name, or the label as text
  double probability = 0;
};

// The k most probable classes of each row of `probabilities` [B, C], most
// probable first. `names` may be empty (labels are printed instead).
std::vector<std::vector<ClassScore>> TopClasses(
    const torch::Tensor& probabilities, const std::vector<std::string>& names,
    int64_t k);

}  // namespace vit_moe::eval

#endif  // VIT_MOE_EVAL_PREDICT_H_
