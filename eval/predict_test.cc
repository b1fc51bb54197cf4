// The parts of //eval:predict that do not need a model: regions of
// interest, folder listing, the report's temperature and abstention, and
// the answer's text and JSON forms.
#include "eval/predict.h"

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "common/atomic_file.h"
#include "common/digest.h"
#include "eval/predict_answer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vit_moe::eval {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;

class PredictTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string Path(const std::string& name) const {
    return (dir_ / name).string();
  }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
  }

  fs::path dir_;
};

// An 8-bit grey image whose pixel (x, y) is 3x + 7y + seed (mod 256).
cv::Mat Gradient(int width, int height, int seed) {
  cv::Mat image(height, width, CV_8UC1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<uint8_t>(y, x) = static_cast<uint8_t>(3 * x + 7 * y + seed);
    }
  }
  return image;
}

TEST(RoiFlagTest, ParsesFourInclusiveCorners) {
  auto roi = ParseRoiFlag("1,2,30,40");
  ASSERT_TRUE(roi.ok()) << roi.status();
  EXPECT_EQ(roi->x1, 1);
  EXPECT_EQ(roi->y1, 2);
  EXPECT_EQ(roi->x2, 30);
  EXPECT_EQ(roi->y2, 40);
  EXPECT_EQ(roi->width, 0);  // no size to check the image against
  EXPECT_EQ(roi->source, "--roi");
  for (const char* bad : {"", "1,2,3", "1,2,3,4,5", "a,2,3,4", "-1,0,3,4",
                          "5,0,4,4", "0,5,4,4", "1.5,2,3,4"}) {
    auto refused = ParseRoiFlag(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr(std::string("--roi=") + bad + ": expected x1,y1"));
  }
}

TEST_F(PredictTest, RoiCropsBeforeTheResize) {
  // A 40x30 image whose region (5,3)-(12,10) is the 8x8 image on its own.
  const cv::Mat big = Gradient(40, 30, 11);
  const cv::Mat small = big(cv::Rect(5, 3, 8, 8)).clone();
  ASSERT_TRUE(cv::imwrite(Path("big.png"), big));
  ASSERT_TRUE(cv::imwrite(Path("small.png"), small));
  auto roi = ParseRoiFlag("5,3,12,10");
  ASSERT_TRUE(roi.ok());
  auto cropped = ReadImageForModel(Path("big.png"), 8, 1, *roi);
  auto direct = ReadImageForModel(Path("small.png"), 8, 1);
  ASSERT_TRUE(cropped.ok()) << cropped.status();
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_TRUE(torch::equal(*cropped, *direct));
  // Without the crop the whole image is resized: something else.
  auto whole = ReadImageForModel(Path("big.png"), 8, 1);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(torch::equal(*whole, *direct));

  // A crop is resized like a whole image: area interpolation to the side.
  auto resized = ReadImageForModel(Path("big.png"), 4, 1, *roi);
  auto small_resized = ReadImageForModel(Path("small.png"), 4, 1);
  ASSERT_TRUE(resized.ok());
  ASSERT_TRUE(small_resized.ok());
  EXPECT_TRUE(torch::equal(*resized, *small_resized));

  // Colour: the crop keeps RGB order.
  cv::Mat colour(30, 40, CV_8UC3, cv::Scalar(10, 20, 30));  // BGR
  colour(cv::Rect(0, 0, 2, 2)).setTo(cv::Scalar(1, 2, 3));
  ASSERT_TRUE(cv::imwrite(Path("colour.png"), colour));
  auto corner =
      ReadImageForModel(Path("colour.png"), 2, 3, *ParseRoiFlag("0,0,1,1"));
  ASSERT_TRUE(corner.ok()) << corner.status();
  EXPECT_EQ((*corner)[0][1][1].item<uint8_t>(), 3);  // red
  EXPECT_EQ((*corner)[2][0][0].item<uint8_t>(), 1);  // blue
}

TEST_F(PredictTest, RoiOutsideTheImageIsRefused) {
  ASSERT_TRUE(cv::imwrite(Path("big.png"), Gradient(40, 30, 0)));
  for (const char* flag : {"0,0,40,10", "0,0,10,30", "39,29,39,29"}) {
    auto image = ReadImageForModel(Path("big.png"), 8, 1, *ParseRoiFlag(flag));
    if (std::string(flag) == "39,29,39,29") {
      EXPECT_TRUE(image.ok()) << image.status();  // the last pixel
      continue;
    }
    EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(image.status().message()),
                HasSubstr(Path("big.png") + ": region " + flag +
                          " from --roi is not inside the 40x30 image"));
  }
}

TEST_F(PredictTest, RoiCsvRowsByFileName) {
  Write("GT.csv",
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
        "big.png;40;30;5;3;12;10;1\n"
        "other.png;41;30;0;0;9;9;2\n");
  auto rois = ReadRoiCsv(Path("GT.csv"));
  ASSERT_TRUE(rois.ok()) << rois.status();
  ASSERT_EQ(rois->size(), 2u);
  // Matched by file name, wherever the image lies.
  auto roi = RoiOfImage(*rois, Path("GT.csv"), "/some/folder/big.png");
  ASSERT_TRUE(roi.ok()) << roi.status();
  EXPECT_EQ(roi->x1, 5);
  EXPECT_EQ(roi->y2, 10);
  EXPECT_EQ(roi->width, 40);
  EXPECT_EQ(roi->source, Path("GT.csv") + ":2");

  const cv::Mat big = Gradient(40, 30, 5);
  ASSERT_TRUE(cv::imwrite(Path("big.png"), big));
  ASSERT_TRUE(cv::imwrite(Path("small.png"), big(cv::Rect(5, 3, 8, 8))));
  auto cropped = ReadImageForModel(Path("big.png"), 8, 1, *roi);
  ASSERT_TRUE(cropped.ok()) << cropped.status();
  EXPECT_TRUE(
      torch::equal(*cropped, *ReadImageForModel(Path("small.png"), 8, 1)));

  // The row is for a 41x30 image; this one is 40x30.
  ASSERT_TRUE(cv::imwrite(Path("other.png"), big));
  auto wrong_size = ReadImageForModel(
      Path("other.png"), 8, 1, *RoiOfImage(*rois, Path("GT.csv"), "other.png"));
  EXPECT_THAT(std::string(wrong_size.status().message()),
              HasSubstr(Path("other.png") + " is 40x30, " + Path("GT.csv") +
                        ":3 says 41x30"));

  auto missing = RoiOfImage(*rois, Path("GT.csv"), Path("small.png"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr(Path("small.png") +
                        ": no row for small.png in "
                        "--roi_csv " +
                        Path("GT.csv")));
}

TEST_F(PredictTest, RoiCsvErrorsNameTheFileAndLine) {
  // The test set's file, without ClassId, is taken too.
  Write("test.csv",
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n"
        "00000.ppm;53;54;6;5;48;49\n");
  auto rois = ReadRoiCsv(Path("test.csv"));
  ASSERT_TRUE(rois.ok()) << rois.status();
  EXPECT_EQ(rois->at("00000.ppm").x2, 48);

  Write("twice.csv",
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n"
        "a.ppm;53;54;6;5;48;49\n"
        "a.ppm;53;54;6;5;48;49\n");
  auto twice = ReadRoiCsv(Path("twice.csv"));
  EXPECT_THAT(std::string(twice.status().message()),
              HasSubstr(Path("twice.csv") + ":3: a.ppm already has a row (" +
                        Path("twice.csv") + ":2)"));
  Write("outside.csv",
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n"
        "a.ppm;53;54;60;5;48;49\n");
  EXPECT_THAT(std::string(ReadRoiCsv(Path("outside.csv")).status().message()),
              HasSubstr(Path("outside.csv") + ":2: ROI"));
  Write("comma.csv", "Filename,Width\n");
  EXPECT_THAT(std::string(ReadRoiCsv(Path("comma.csv")).status().message()),
              HasSubstr(Path("comma.csv") +
                        ":1: the header has no column \"Filename\""));
  EXPECT_THAT(std::string(ReadRoiCsv(Path("none.csv")).status().message()),
              HasSubstr(Path("none.csv")));
}

TEST_F(PredictTest, FoldersGiveTheirImageFilesSorted) {
  fs::create_directories(dir_ / "images" / "sub");
  const cv::Mat image = Gradient(8, 8, 0);
  for (const char* name : {"b.png", "a.PGM", "c.jpeg", "sub/d.png"}) {
    ASSERT_TRUE(cv::imwrite(Path(std::string("images/") + name), image));
  }
  Write("images/GT.csv", "not an image\n");
  auto listed = ListImageArguments({Path("x.png"), Path("images")});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, (std::vector<std::string>{
                         Path("x.png"), Path("images/a.PGM"),
                         Path("images/b.png"), Path("images/c.jpeg")}));

  fs::create_directories(dir_ / "no_images" / "sub");
  Write("no_images/notes.txt", "text\n");
  auto empty = ListImageArguments({Path("no_images")});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr(Path("no_images") + ": folder holds no image files"));
}

TEST_F(PredictTest, TemperatureOnlyFromTheReportOfThisModel) {
  Write("model.pt", "the model's bytes");
  Write("other.pt", "another model");
  EvaluationReport report;
  report.set_checkpoint_sha256(Sha256Hex("the model's bytes"));
  report.set_temperature(1.7);
  auto t = ReportTemperature(report, "r.pb", Path("model.pt"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_DOUBLE_EQ(*t, 1.7);

  auto other = ReportTemperature(report, "r.pb", Path("other.pt"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      std::string(other.status().message()),
      HasSubstr("r.pb evaluated the model file with SHA-256 " +
                Sha256Hex("the model's bytes") + ", not " + Path("other.pt") +
                " (" + Sha256Hex("another model") + ")"));

  for (double bad : {0.0, -1.0, std::nan("")}) {
    report.set_temperature(bad);
    auto refused = ReportTemperature(report, "r.pb", Path("model.pt"));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr("r.pb: temperature"));
  }
  EXPECT_FALSE(ReportTemperature(report, "r.pb", Path("none.pt")).ok());
}

TEST(AbstainTest, ThresholdStrictlyBetweenZeroAndOne) {
  EXPECT_DOUBLE_EQ(*ParseAbstainBelow("0.75"), 0.75);
  for (const char* bad : {"0", "1", "1.5", "-0.2", "nan", "x", "", "0.5x"}) {
    auto refused = ParseAbstainBelow(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(std::string(refused.status().message()),
                HasSubstr(std::string("--abstain_below=") + bad +
                          ": expected a confidence strictly between 0 and 1"));
  }
}

EvaluationReport FiveImages() {
  EvaluationReport report;
  report.set_split("test");
  report.set_num_images(5);
  for (double c : {0.9, 0.8, 0.7, 0.6, 0.5}) {
    report.mutable_scaled_confidences()->add_confidence(c);
  }
  for (bool right : {true, true, false, true, false}) {
    report.mutable_scaled_confidences()->add_correct(right);
  }
  return report;
}

TEST(AbstainTest, CoverageAndRiskOnTheEvaluatedSplit) {
  const EvaluationReport report = FiveImages();
  auto at_07 = MeasureAbstention(report, "r.pb", 0.7);
  ASSERT_TRUE(at_07.ok()) << at_07.status();
  EXPECT_EQ(at_07->images, 5);
  EXPECT_EQ(at_07->kept, 3);  // a confidence equal to P is answered
  EXPECT_EQ(at_07->errors, 1);
  EXPECT_DOUBLE_EQ(at_07->coverage(), 0.6);
  EXPECT_DOUBLE_EQ(at_07->risk(), 1.0 / 3);
  EXPECT_EQ(DescribeAbstention(*at_07, 0.7, report, "r.pb"),
            "--abstain_below=0.7 on the 5 test images of r.pb: answered 3 "
            "(coverage 0.6000), risk 0.3333 (1 wrong), abstained on 2");
  auto at_065 = MeasureAbstention(report, "r.pb", 0.65);
  EXPECT_EQ(at_065->kept, 3);
  auto at_055 = MeasureAbstention(report, "r.pb", 0.55);
  EXPECT_EQ(at_055->kept, 4);
  EXPECT_DOUBLE_EQ(at_055->risk(), 0.25);
  auto none = MeasureAbstention(report, "r.pb", 0.95);
  EXPECT_EQ(none->kept, 0);
  EXPECT_EQ(none->risk(), 0);
  EXPECT_EQ(DescribeAbstention(*none, 0.95, report, "r.pb"),
            "--abstain_below=0.95 on the 5 test images of r.pb: answered 0 "
            "(coverage 0.0000), no risk to state, abstained on 5");
}

TEST(AbstainTest, RefusesReportsWithoutScaledConfidences) {
  EvaluationReport old = FiveImages();
  old.clear_scaled_confidences();
  auto refused = MeasureAbstention(old, "old.pb", 0.5);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("old.pb has no scaled_confidences (written by an "
                        "older //eval:evaluate)"));
  EvaluationReport short_list = FiveImages();
  short_list.mutable_scaled_confidences()->mutable_correct()->RemoveLast();
  EXPECT_THAT(
      std::string(
          MeasureAbstention(short_list, "s.pb", 0.5).status().message()),
      HasSubstr("s.pb: scaled_confidences holds 5 confidences and 4 outcomes "
                "for 5 evaluated images"));
}

std::vector<ClassScore> Top(double p0, double p1) {
  return {{6, "Shirt", p0}, {0, "T-shirt/top", p1}};
}

TEST(AnswerTest, AbstainsBelowTheThresholdOnly) {
  Prediction answered = MakePrediction("a.png", Top(0.8, 0.1), 1.5, 0.8);
  EXPECT_FALSE(answered.abstained());
  EXPECT_EQ(answered.answer(), "Shirt");
  EXPECT_DOUBLE_EQ(answered.temperature(), 1.5);
  ASSERT_EQ(answered.top_k_size(), 2);
  EXPECT_EQ(answered.top_k(1).name(), "T-shirt/top");
  Prediction abstained = MakePrediction("a.png", Top(0.79, 0.2), 1.5, 0.8);
  EXPECT_TRUE(abstained.abstained());
  EXPECT_EQ(abstained.answer(), "abstain");
  EXPECT_EQ(PredictionText(abstained),
            "a.png: abstain (top-1 Shirt at 0.7900)\n"
            "  1. Shirt                       0.7900\n"
            "  2. T-shirt/top                 0.2000\n");
  EXPECT_FALSE(
      MakePrediction("a.png", Top(0.1, 0.05), 1, std::nullopt).abstained());
  EXPECT_EQ(PredictionText(answered).substr(0, 13), "a.png: Shirt\n");
}

TEST(AnswerTest, JsonIsEscapedAndComplete) {
  const std::string file = "dir/\"quoted\" back\\slash\nline.png";
  auto json = PredictionJson(MakePrediction(file, Top(0.5, 0.25), 1.0, 0.9));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->find('\n'), std::string::npos);  // one line
  EXPECT_THAT(*json,
              HasSubstr(R"("file":"dir/\"quoted\" back\\slash\nline.png")"));
  EXPECT_THAT(*json, HasSubstr(R"("answer":"abstain","abstained":true)"));
  EXPECT_THAT(
      *json,
      HasSubstr(R"({"label":0,"name":"T-shirt/top","probability":0.25})"));
  EXPECT_THAT(*json, HasSubstr(R"("temperature":1)"));
  // False is printed, not left out as proto3's default.
  auto answered = PredictionJson(MakePrediction("a", Top(0.5, 0.25), 1.0, {}));
  EXPECT_THAT(*answered, HasSubstr(R"("answer":"Shirt","abstained":false)"));

  // Not UTF-8: a Latin-1 byte, an overlong '/', a surrogate, a cut sequence.
  for (const char* name :
       {"caf\xe9.png", "\xc0\xaf.png", "\xed\xa0\x80.png", "\xe2\x82"}) {
    auto refused = PredictionJson(MakePrediction(name, Top(0.5, 0.2), 1, {}));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
  // UTF-8 passes as it is: a euro sign and a 4-byte emoji.
  auto euro = PredictionJson(MakePrediction("\xe2\x82\xac \xf0\x9f\x91\x95.png",
                                            Top(0.5, 0.2), 1, {}));
  ASSERT_TRUE(euro.ok()) << euro.status();
  EXPECT_THAT(*euro,
              HasSubstr("\"file\":\"\xe2\x82\xac \xf0\x9f\x91\x95.png\""));
  auto latin1 =
      PredictionJson(MakePrediction("caf\xe9.png", Top(0.5, 0.2), 1, {}));
  EXPECT_EQ(latin1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(latin1.status().message()),
              HasSubstr("caf\xe9.png: the file name or a class name is not "
                        "UTF-8"));
}

}  // namespace
}  // namespace vit_moe::eval
