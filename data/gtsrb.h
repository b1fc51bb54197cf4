// GTSRB from its three published zips: Final_Training (one folder and one
// GT-000NN.csv per class, files TTTTT_FFFFF.ppm = physical track, frame),
// Final_Test images and the test ground truth GT-final_test.csv.
//
// Every image is cropped to its ROI (inclusive corners from the CSV,
// clamped to the image), then resized to 32x32 with OpenCV's INTER_AREA.
// The crop is stretched to a square, not padded: the ROI is the sign's
// bounding box (the published images carry a ~10% border around it, which
// the crop removes) and signs are roughly as wide as tall, so stretching
// distorts little while keeping every sign pixel and spending no resolution
// on padding. INTER_AREA averages the source pixels each output pixel
// covers, avoiding aliasing when shrinking (most ROIs are larger than 32 px).
#ifndef VIT_MOE_DATA_GTSRB_H_
#define VIT_MOE_DATA_GTSRB_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/archive_extract.h"
#include "data/converted.h"
#include "data/fetch.h"
#include "data/gtsrb_csv.h"
#include "data/ppm.h"

namespace vit_moe::data {

inline constexpr int kGtsrbSide = 32;

// ROI crop then INTER_AREA resize to side x side; `row` must describe
// `image` (checked by the caller).
std::vector<uint8_t> CropAndResize(const RgbImage& image, const GtsrbRow& row,
                                   int side);

// Extracts the zips under `work_dir` and converts them. Training images get
// group id class * 100000 + track so that the split keeps tracks whole.
absl::StatusOr<ConvertedDataset> ConvertGtsrb(const VerifiedSources& sources,
                                              const std::string& work_dir,
                                              const ExtractLimits& limits);

// GTSRB a user already has under `root`: extracted as published
// (Final_Training/Images/000NN, Final_Test/Images, GT-final_test.csv), in
// the seed's layout (Training/000NN, Test/Images, Test/GT-final_test.csv),
// as zips of either lying in `root` (the seed's GTSRB-Training_fixed.zip
// and the published test zips; extracted under `work_dir` within
// `limits`), or in the Kaggle re-distribution's layout (Train.csv and
// Test.csv naming PNGs under Train/<class>/ and Test/, data/gtsrb_csv.h).
// Converted exactly as ConvertGtsrb does: ROI crop, INTER_AREA to 32x32,
// training images grouped by physical track.
absl::StatusOr<ConvertedDataset> ConvertGtsrbFolder(
    const std::string& root, const std::string& work_dir,
    const ExtractLimits& limits);

}  // namespace vit_moe::data

#endif  // VIT_MOE_DATA_GTSRB_H_
