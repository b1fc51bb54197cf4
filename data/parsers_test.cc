#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/cifar_record.h"
#include "data/gtsrb_csv.h"
#include "data/idx.h"
#include "data/ppm.h"

namespace vit_moe::data {
namespace {

using ::testing::HasSubstr;

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST(IdxTest, ParsesImagesAndLabels) {
  std::string images = Be32(0x803) + Be32(2) + Be32(2) + Be32(3);
  for (int i = 0; i < 12; ++i) images.push_back(static_cast<char>(i));
  auto parsed = ParseIdxImages(images, "imgs");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->count, 2);
  EXPECT_EQ(parsed->rows, 2);
  EXPECT_EQ(parsed->cols, 3);
  EXPECT_EQ(parsed->pixels[11], 11);
  auto labels = ParseIdxLabels(Be32(0x801) + Be32(2) + "\x03\x07", "lbls");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(*labels, (std::vector<uint8_t>{3, 7}));
}

TEST(IdxTest, RejectsWrongMagicShortDataAndTrailingBytes) {
  auto wrong = ParseIdxLabels(Be32(0x803) + Be32(1) + "x", "t10k-labels");
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("t10k-labels: wrong IDX magic 0x00000803"));
  auto short_data =
      ParseIdxImages(Be32(0x803) + Be32(2) + Be32(2) + Be32(2) + "abc", "imgs");
  EXPECT_THAT(short_data.status().message(), HasSubstr("imgs: IDX data is"));
  EXPECT_THAT(short_data.status().message(), HasSubstr("truncated"));
  auto trailing = ParseIdxLabels(Be32(0x801) + Be32(1) + "ab", "lbls");
  EXPECT_THAT(trailing.status().message(), HasSubstr("trailing"));
  EXPECT_FALSE(ParseIdxImages("", "empty").ok());
  EXPECT_FALSE(ParseIdxImages(Be32(0x803) + Be32(1), "header").ok());
}

TEST(PpmTest, ParsesHeaderWithComments) {
  std::string ppm = "P6\n# made by hand\n2 1\n255\n";
  ppm += std::string("\x01\x02\x03\xfd\xfe\xff", 6);
  auto image = ParsePpm(ppm, "a.ppm");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 2);
  EXPECT_EQ(image->height, 1);
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{1, 2, 3, 253, 254, 255}));
}

TEST(PpmTest, RescalesSmallMaxval) {
  auto image = ParsePpm(std::string("P6 1 1 15 \x0f\x00\x05", 13), "b.ppm");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->pixels, (std::vector<uint8_t>{255, 0, 85}));
}

TEST(PpmTest, RoundTripsEncode) {
  RgbImage image{3, 2, std::vector<uint8_t>(18)};
  for (int i = 0; i < 18; ++i) image.pixels[i] = static_cast<uint8_t>(i * 13);
  auto parsed = ParsePpm(EncodePpm(image), "c.ppm");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->pixels, image.pixels);
}

TEST(PpmTest, RejectsMalformedFilesNamingThem) {
  const std::pair<std::string, std::string> cases[] = {
      {"P3\n1 1\n255\n\x01\x02\x03", "not a binary PPM"},
      {"P6\n2 2\n255\n\x01\x02\x03", "truncated pixel data"},
      {"P6\n2", "truncated header"},
      {"P6\n1 1\n65535\n\x01\x02\x03\x04\x05\x06", "maxval 65535"},
      {"P6\n0 1\n255\n", "size 0x1"},
      {"P6\n99999999 99999999\n255\n", "out of range"},
      {"P6\nx 1\n255\n", "bad width"},
      {"P6\n1 1\n255", "no whitespace after the header"},
  };
  for (const auto& [bytes, expected] : cases) {
    auto image = ParsePpm(bytes, "Images/00001/00000_00000.ppm");
    ASSERT_FALSE(image.ok()) << bytes;
    EXPECT_THAT(image.status().message(),
                HasSubstr("Images/00001/00000_00000.ppm: bad PPM"));
    EXPECT_THAT(image.status().message(), HasSubstr(expected));
  }
}

constexpr char kHeader[] =
    "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId";

TEST(GtsrbCsvTest, ParsesRowsWithEitherLineEnd) {
  std::string text = std::string(kHeader) +
                     "\r\n00000_00000.ppm;29;30;5;6;24;25;7\r\n"
                     "00000_00001.ppm;30;30;5;5;25;25;7\n\n";
  auto rows = ParseGtsrbCsv(text, "GT-00007.csv", true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].filename, "00000_00000.ppm");
  EXPECT_EQ((*rows)[0].width, 29);
  EXPECT_EQ((*rows)[0].y2, 25);
  EXPECT_EQ((*rows)[0].class_id, 7);
  EXPECT_EQ((*rows)[1].line, 3);
}

TEST(GtsrbCsvTest, AcceptsPublicTestFileWithoutClassId) {
  auto rows = ParseGtsrbCsv(
      "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n00000.ppm;53;54;6;5;"
      "48;49\n",
      "GT-final_test.test.csv", false);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].class_id, -1);
  EXPECT_FALSE(
      ParseGtsrbCsv("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n",
                    "GT-final_test.csv", true)
          .ok());
}

TEST(GtsrbCsvTest, ErrorsNameFileAndLine) {
  const std::pair<std::string, std::string> cases[] = {
      {"00000_00000.ppm;29;30;5;6;24;25;0\n00000_00001.ppm;29;30;5\n",
       "GT-00000.csv:3: expected 8 fields, got 4"},
      {"00000_00000.ppm;29;x;5;6;24;25;0\n",
       "GT-00000.csv:2: Height \"x\" is not an integer"},
      {"00000_00000.ppm;29;30;5;6;24;25;43\n", "GT-00000.csv:2: ClassId 43"},
      {"00000_00000.ppm;29;30;25;6;24;25;0\n", "GT-00000.csv:2: ROI"},
      {"../evil.ppm;29;30;5;6;24;25;0\n",
       "GT-00000.csv:2: bad Filename \"../evil.ppm\""},
  };
  for (const auto& [rows, expected] : cases) {
    auto parsed =
        ParseGtsrbCsv(std::string(kHeader) + "\n" + rows, "GT-00000.csv", true);
    ASSERT_FALSE(parsed.ok()) << rows;
    EXPECT_THAT(parsed.status().message(), HasSubstr(expected));
  }
  EXPECT_THAT(ParseGtsrbCsv("Filename,Width\n", "GT-00000.csv", true)
                  .status()
                  .message(),
              HasSubstr("GT-00000.csv:1: the header has no column "
                        "\"Filename\""));
  EXPECT_THAT(ParseGtsrbCsv("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2"
                            "\n",
                            "GT-00000.csv", true)
                  .status()
                  .message(),
              HasSubstr("no column \"ClassId\""));
  EXPECT_THAT(ParseGtsrbCsv("", "GT-00000.csv", true).status().message(),
              HasSubstr("empty"));
}

// Files re-saved by spreadsheets or other tools: a byte-order mark, columns
// in another order with one more, quotes and spaces around fields.
TEST(GtsrbCsvTest, ColumnsAreFoundByNameInReSavedFiles) {
  auto rows = ParseGtsrbCsv(
      "\xEF\xBB\xBF"
      "ClassId; Filename ;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;Width;"
      "Height;Note\r\n"
      "7;\"00000_00000.ppm\";5;6; 24 ;25;29;30;checked\r\n",
      "GT-00007.csv", true);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].filename, "00000_00000.ppm");
  EXPECT_EQ((*rows)[0].width, 29);
  EXPECT_EQ((*rows)[0].height, 30);
  EXPECT_EQ((*rows)[0].x2, 24);
  EXPECT_EQ((*rows)[0].class_id, 7);

  auto kaggle = ParseGtsrbKaggleCsv(
      "\xEF\xBB\xBF"
      "Path,ClassId,Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2\n"
      "\"Train/20/00020_00000_00000.png\",20,27,26,5,5,22,20\n",
      "Train.csv");
  ASSERT_TRUE(kaggle.ok()) << kaggle.status();
  EXPECT_EQ((*kaggle)[0].filename, "Train/20/00020_00000_00000.png");
  EXPECT_EQ((*kaggle)[0].class_id, 20);
  EXPECT_EQ((*kaggle)[0].y2, 20);
  EXPECT_THAT(ParseGtsrbKaggleCsv("Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,"
                                  "ClassId,Path\n27,26,5,5,22,20,20,/etc/x\n",
                                  "Test.csv")
                  .status()
                  .message(),
              HasSubstr("Test.csv:2: bad Path \"/etc/x\""));
}

TEST(CifarRecordTest, ConvertsPlanesToHwc) {
  std::string record(kCifarRecordBytes, '\0');
  record[0] = 4;
  record[1 + 0] = 10;          // R of pixel 0
  record[1 + 1024] = 20;       // G of pixel 0
  record[1 + 2048 + 33] = 30;  // B of pixel (1, 1)
  ImageSet set;
  ASSERT_TRUE(AppendCifarBatch(record + record, "data_batch_1.bin", set).ok());
  ASSERT_EQ(set.size(), 2);
  EXPECT_EQ(set.labels[0], 4);
  EXPECT_EQ(set.pixels[0], 10);
  EXPECT_EQ(set.pixels[1], 20);
  EXPECT_EQ(set.pixels[33 * 3 + 2], 30);
}

TEST(CifarRecordTest, RejectsPartialRecordsAndBadLabels) {
  ImageSet set;
  EXPECT_THAT(AppendCifarBatch(std::string(3000, '\0'), "test_batch.bin", set)
                  .message(),
              HasSubstr("test_batch.bin: 3000 bytes"));
  std::string bad(2 * kCifarRecordBytes, '\0');
  bad[kCifarRecordBytes] = 10;
  EXPECT_THAT(AppendCifarBatch(bad, "data_batch_2.bin", set).message(),
              HasSubstr("data_batch_2.bin: record 1 has label 10"));
}

TEST(CifarRecordTest, ReadsClassNames) {
  auto names = ParseCifarClassNames(
      "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
      "\n",
      "batches.meta.txt");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->back(), "truck");
  EXPECT_FALSE(ParseCifarClassNames("a\nb\n", "batches.meta.txt").ok());
}

}  // namespace
}  // namespace vit_moe::data
