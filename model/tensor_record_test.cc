#include "model/tensor_record.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vit_moe::model {
namespace {

using ::testing::HasSubstr;

struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    linear = register_module("linear", torch::nn::Linear(3, 2));
    norm = register_module("norm", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Tiny);

TensorRecords RecordsOf(torch::nn::Module& module) {
  TensorRecords records;
  AppendRecords(ModuleTensors(module), &records);
  return records;
}

std::string DigestOf(const TensorRecords& records) {
  Digester digest(DigestKind::kSha256);
  DigestRecords(records, &digest);
  return digest.FinishHex();
}

TEST(TensorRecordTest, RoundTripsDtypeShapeAndBytes) {
  for (const torch::Tensor& t :
       {torch::arange(6, torch::kInt64).reshape({2, 3}),
        torch::randn({4, 1, 2}).to(torch::kBFloat16), torch::ones({0, 3}),
        torch::tensor(true)}) {
    absl::StatusOr<torch::Tensor> back = FromRecord(ToRecord("t", t));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->scalar_type(), t.scalar_type());
    EXPECT_TRUE(torch::equal(*back, t));
  }
}

TEST(TensorRecordTest, RefusesRecordsWhoseBytesDoNotFitTheShape) {
  NamedTensor short_data = ToRecord("t", torch::ones({2, 3}));
  short_data.mutable_data()->pop_back();
  EXPECT_THAT(FromRecord(short_data).status().message(),
              HasSubstr("tensor t holds 23 bytes, its shape [2, 3] needs 24"));

  // A shape asking for more than memory holds is refused before allocating.
  NamedTensor huge = ToRecord("h", torch::ones({2}));
  huge.set_shape(0, int64_t{1} << 40);
  huge.add_shape(int64_t{1} << 40);
  EXPECT_THAT(FromRecord(huge).status().message(),
              HasSubstr("tensor h has an invalid shape"));
  NamedTensor negative = ToRecord("n", torch::ones({2}));
  negative.set_shape(0, -2);
  EXPECT_THAT(FromRecord(negative).status().message(),
              HasSubstr("invalid shape [-2]"));
  NamedTensor unknown = ToRecord("u", torch::ones({2}));
  unknown.set_dtype("Quaternion");
  EXPECT_THAT(FromRecord(unknown).status().message(),
              HasSubstr("tensor u: unknown dtype Quaternion"));
}

TEST(TensorRecordTest, ModuleTensorsRestoreIntoFreshModule) {
  torch::manual_seed(1);
  Tiny source;
  source->norm->running_mean.fill_(0.25);
  TensorRecords records = RecordsOf(*source);
  torch::manual_seed(2);
  Tiny target;
  ASSERT_TRUE(RestoreModuleTensors(*target, records).ok());
  EXPECT_TRUE(torch::equal(target->linear->weight, source->linear->weight));
  EXPECT_TRUE(
      torch::equal(target->norm->running_mean, source->norm->running_mean));
}

TEST(TensorRecordTest, FailedRestoreNamesTheTensorAndChangesNothing) {
  torch::manual_seed(3);
  Tiny source;
  Tiny target;
  const torch::Tensor before = target->linear->weight.clone();

  TensorRecords renamed = RecordsOf(*source);
  renamed.Mutable(renamed.size() - 1)->set_name("norm.extra");
  EXPECT_THAT(RestoreModuleTensors(*target, renamed).message(),
              HasSubstr("is missing"));

  TensorRecords extra = RecordsOf(*source);
  *extra.Add() = ToRecord("stranger", torch::ones({1}));
  EXPECT_THAT(RestoreModuleTensors(*target, extra).message(),
              HasSubstr("tensor stranger is not part of the model"));

  TensorRecords twice = RecordsOf(*source);
  *twice.Add() = twice.Get(0);
  EXPECT_THAT(RestoreModuleTensors(*target, twice).message(),
              HasSubstr("tensor linear.weight is stored twice"));

  // The bias comes after the weight: the weight must not have been copied.
  TensorRecords wrong_shape = RecordsOf(*source);
  for (NamedTensor& record : wrong_shape) {
    if (record.name() == "linear.bias") {
      record = ToRecord("linear.bias", torch::zeros({5}));
    }
  }
  EXPECT_THAT(RestoreModuleTensors(*target, wrong_shape).message(),
              HasSubstr("tensor linear.bias is Float [5] in the file, the "
                        "model expects Float [2]"));
  TensorRecords wrong_dtype = RecordsOf(*source);
  *wrong_dtype.Mutable(0) =
      ToRecord("linear.weight", source->linear->weight.to(torch::kFloat64));
  EXPECT_THAT(RestoreModuleTensors(*target, wrong_dtype).message(),
              HasSubstr("is Double"));
  EXPECT_TRUE(torch::equal(before, target->linear->weight));
}

TEST(TensorRecordTest, DigestSeesEveryByteNameAndShape) {
  Tiny module;
  const TensorRecords records = RecordsOf(*module);
  const std::string digest = DigestOf(records);
  EXPECT_EQ(digest, DigestOf(RecordsOf(*module)));

  TensorRecords flipped = records;
  (*flipped.Mutable(0)->mutable_data())[5] ^= 1;
  EXPECT_NE(DigestOf(flipped), digest);
  TensorRecords renamed = records;
  renamed.Mutable(0)->set_name("linear.weighs");
  EXPECT_NE(DigestOf(renamed), digest);
  TensorRecords reshaped = records;
  reshaped.Mutable(0)->set_shape(0, 3);
  reshaped.Mutable(0)->set_shape(1, 2);
  EXPECT_NE(DigestOf(reshaped), digest);
}

}  // namespace
}  // namespace vit_moe::model
