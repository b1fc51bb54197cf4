// Proves that every system library target links and answers one real call,
// so a missing Debian package fails here with its name rather than deep in a
// stage's build.
#include <archive.h>
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <glog/logging.h>
#include <openssl/evp.h>
#include <plplot/plstream.h>
#include <torch/torch.h>
#include <zlib.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"

// @system//:gloo defines USE_C10D_GLOO, without which this header is empty.
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

namespace {

TEST(SystemLibrariesTest, EachLibraryAnswers) {
  EXPECT_EQ(absl::StrCat("a", 1), "a1");
  EXPECT_NE(curl_version(), nullptr);
  EXPECT_NE(archive_version_string(), nullptr);
  EXPECT_NE(EVP_sha256(), nullptr);
  EXPECT_NE(zlibVersion(), nullptr);

  cv::Mat image(4, 4, CV_8UC1, cv::Scalar(7));
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(2, 2));
  EXPECT_EQ(resized.at<uint8_t>(1, 1), 7);

  torch::Tensor product = torch::ones({2, 3}).matmul(torch::ones({3, 2}));
  EXPECT_EQ(product[0][0].item<float>(), 3.0f);
}

TEST(SystemLibrariesTest, OnnxCheckerAcceptsMinimalModel) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("identity");
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type("Identity");
  node->add_input("x");
  node->add_output("y");
  auto declare = [](onnx::ValueInfoProto* value, const char* name) {
    value->set_name(name);
    auto* tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    tensor->mutable_shape()->add_dim()->set_dim_value(1);
  };
  declare(graph->add_input(), "x");
  declare(graph->add_output(), "y");
  EXPECT_NO_THROW(onnx::checker::check_model(model));
}

TEST(SystemLibrariesTest, GlooProcessGroupOfOne) {
  std::string path = testing::TempDir() + "/gloo_store";
  std::remove(path.c_str());
  auto store = c10::make_intrusive<c10d::FileStore>(path, 1);
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(
      c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  c10d::ProcessGroupGloo group(store, /*rank=*/0, /*size=*/1, options);
  std::vector<torch::Tensor> tensors = {torch::full({3}, 2.0)};
  group.allreduce(tensors)->wait();
  EXPECT_EQ(tensors[0][2].item<float>(), 2.0f);
}

TEST(SystemLibrariesTest, PlplotCreatesStream) {
  plstream stream;
  char version[80] = {};
  stream.gver(version);
  EXPECT_GT(std::string(version).size(), 0u);
}

void BM_Nothing(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(state.iterations());
}
BENCHMARK(BM_Nothing);

}  // namespace
