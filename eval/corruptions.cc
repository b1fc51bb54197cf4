#include "eval/corruptions.h"

#include <ATen/CPUGeneratorImpl.h>
#include <glog/logging.h>

#include <array>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace vit_moe::eval {
namespace {

namespace F = torch::nn::functional;

template <typename T>
using PerSeverity = std::array<T, kMaxSeverity>;

// Severity tables. Noise, brightness, contrast, fog and JPEG use CIFAR-10-C's
// values; blur and pixelate are scaled for 28-32 px images (CIFAR-10-C's
// smallest defocus radii leave such images almost unchanged, and its
// pixelate steps are so close that resampling artefacts, e.g. an exact 2x
// grid being cleaner than a 1.7x one, can reverse their order).
constexpr PerSeverity<double> kGaussianSigma = {0.04, 0.06, 0.08, 0.09, 0.10};
constexpr PerSeverity<double> kShotPhotons = {500, 250, 100, 75, 50};
constexpr PerSeverity<double> kImpulseAmount = {0.01, 0.02, 0.03, 0.05, 0.07};
constexpr PerSeverity<double> kDefocusRadius = {1.0, 1.5, 2.0, 2.5, 3.0};
constexpr PerSeverity<int> kMotionLength = {3, 5, 7, 9, 11};
constexpr PerSeverity<double> kBrightnessShift = {0.05, 0.1, 0.15, 0.2, 0.3};
constexpr PerSeverity<double> kContrastFactor = {0.75, 0.5, 0.4, 0.3, 0.15};
constexpr PerSeverity<double> kFogDensity = {0.2, 0.5, 0.75, 1.0, 1.5};
constexpr PerSeverity<double> kFogDecay = {3.0, 3.0, 2.5, 2.0, 1.75};
constexpr PerSeverity<int> kJpegQuality = {80, 65, 58, 50, 40};
constexpr PerSeverity<double> kPixelateScale = {0.9, 0.75, 0.6, 0.45, 0.35};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

at::Generator ImageGenerator(uint64_t seed, Corruption c, int64_t index) {
  const uint64_t key =
      SplitMix64(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(c) + 1)) ^
                 static_cast<uint64_t>(index));
  return at::detail::createCPUGenerator(key);
}

// Random draws in float64: LibTorch's float32 normal sampler has an AVX2
// variant whose values differ from the scalar one, which would make the
// suite depend on the CPU.
torch::Tensor Normal(at::IntArrayRef shape, at::Generator& gen) {
  return torch::randn(shape, gen, torch::kFloat64).to(torch::kFloat32);
}
torch::Tensor Uniform(at::IntArrayRef shape, at::Generator& gen) {
  return torch::rand(shape, gen, torch::kFloat64).to(torch::kFloat32);
}

// Pixels of one image [C, H, W] in 0..1 <-> an OpenCV HWC float matrix.
cv::Mat ToMat(const torch::Tensor& x) {
  const torch::Tensor hwc = x.permute({1, 2, 0}).contiguous();
  cv::Mat view(hwc.size(0), hwc.size(1), CV_32FC(hwc.size(2)),
               hwc.data_ptr<float>());
  return view.clone();
}
torch::Tensor FromMat(const cv::Mat& m, int64_t channels) {
  CHECK(m.isContinuous());
  return torch::from_blob(const_cast<uchar*>(m.data),
                          {m.rows, m.cols, channels}, torch::kFloat32)
      .permute({2, 0, 1})
      .clone();
}

torch::Tensor Filter(const torch::Tensor& x, const cv::Mat& kernel) {
  cv::Mat out;
  cv::filter2D(ToMat(x), out, /*ddepth=*/-1, kernel, cv::Point(-1, -1), 0,
               cv::BORDER_REFLECT);
  return FromMat(out, x.size(0));
}

// A disk of the given radius, anti-aliased by a small Gaussian.
cv::Mat DiskKernel(double radius) {
  const int half = static_cast<int>(std::ceil(radius)) + 1;
  cv::Mat kernel(2 * half + 1, 2 * half + 1, CV_32F, cv::Scalar(0));
  for (int y = -half; y <= half; ++y) {
    for (int x = -half; x <= half; ++x) {
      if (x * x + y * y <= radius * radius) {
        kernel.at<float>(y + half, x + half) = 1;
      }
    }
  }
  cv::GaussianBlur(kernel, kernel, cv::Size(3, 3), /*sigmaX=*/0.5);
  return kernel / cv::sum(kernel)[0];
}

// A centred line of `length` pixels at `angle` radians, drawn with bilinear
// weights so that diagonal lines keep their length.
cv::Mat LineKernel(int length, double angle) {
  const int half = length / 2 + 1;
  cv::Mat kernel(2 * half + 1, 2 * half + 1, CV_32F, cv::Scalar(0));
  const int steps = 8 * length;
  for (int s = 0; s < steps; ++s) {
    const double t =
        (length - 1) * (static_cast<double>(s) / (steps - 1) - 0.5);
    const double x = half + t * std::cos(angle), y = half + t * std::sin(angle);
    const int x0 = std::floor(x), y0 = std::floor(y);
    const double fx = x - x0, fy = y - y0;
    kernel.at<float>(y0, x0) += (1 - fx) * (1 - fy);
    kernel.at<float>(y0, x0 + 1) += fx * (1 - fy);
    kernel.at<float>(y0 + 1, x0) += (1 - fx) * fy;
    kernel.at<float>(y0 + 1, x0 + 1) += fx * fy;
  }
  return kernel / cv::sum(kernel)[0];
}

// Fractal "plasma" [H, W] in 0..1: random grids of doubling resolution,
// each octave's amplitude divided by `decay` (larger = smoother fog).
torch::Tensor FogPattern(int64_t h, int64_t w, double decay,
                         at::Generator& gen) {
  torch::Tensor fog = torch::zeros({1, 1, h, w});
  double amplitude = 1;
  for (int64_t grid = 2; grid <= 2 * std::max(h, w); grid *= 2) {
    const torch::Tensor coarse = Uniform({1, 1, grid, grid}, gen);
    fog +=
        amplitude * F::interpolate(coarse, F::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{h, w})
                                               .mode(torch::kBilinear)
                                               .align_corners(true));
    amplitude /= decay;
  }
  fog = fog[0][0];
  return (fog - fog.min()) / (fog.max() - fog.min()).clamp_min(1e-6);
}

torch::Tensor Jpeg(const torch::Tensor& image_u8, int quality) {
  const int64_t c = image_u8.size(0);
  torch::Tensor hwc = image_u8.permute({1, 2, 0}).contiguous();
  cv::Mat mat(hwc.size(0), hwc.size(1), CV_8UC(c), hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  // OpenCV's JPEG codec takes BGR; converting keeps chroma handling right.
  if (c == 3) {
    cv::cvtColor(mat, bgr, cv::COLOR_RGB2BGR);
  } else {
    bgr = mat;
  }
  std::vector<uchar> bytes;
  CHECK(cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality}));
  cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  CHECK(!decoded.empty());
  if (c == 3) cv::cvtColor(decoded, decoded, cv::COLOR_BGR2RGB);
  return torch::from_blob(decoded.data, {decoded.rows, decoded.cols, c},
                          torch::kUInt8)
      .permute({2, 0, 1})
      .clone();
}

torch::Tensor Pixelate(const torch::Tensor& x, double scale) {
  const cv::Mat m = ToMat(x);
  const int w = std::max(1, static_cast<int>(std::lround(m.cols * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(m.rows * scale)));
  cv::Mat small, big;
  cv::resize(m, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  cv::resize(small, big, m.size(), 0, 0, cv::INTER_NEAREST_EXACT);
  return FromMat(big, x.size(0));
}

// One image [C, H, W] float 0..1 (JPEG takes the uint8 image instead).
torch::Tensor CorruptOne(const torch::Tensor& x, const torch::Tensor& x_u8,
                         Corruption c, int s, at::Generator& gen) {
  switch (c) {
    case Corruption::kGaussianNoise:
      return x + kGaussianSigma[s] * Normal(x.sizes(), gen);
    case Corruption::kShotNoise:
      return torch::poisson((x * kShotPhotons[s]).to(torch::kFloat64), gen)
                 .to(torch::kFloat32) /
             kShotPhotons[s];
    case Corruption::kImpulseNoise: {
      // One uniform draw per value: the salt and pepper sets of a weaker
      // severity are subsets of a stronger one's.
      const torch::Tensor u = Uniform(x.sizes(), gen);
      const double half = kImpulseAmount[s] / 2;
      return torch::where(u < half, torch::zeros_like(x),
                          torch::where(u > 1 - half, torch::ones_like(x), x));
    }
    case Corruption::kDefocusBlur:
      return Filter(x, DiskKernel(kDefocusRadius[s]));
    case Corruption::kMotionBlur: {
      const double angle = (Uniform({1}, gen).item<float>() - 0.5) * M_PI;
      return Filter(x, LineKernel(kMotionLength[s], angle));
    }
    case Corruption::kBrightness:
      return x + kBrightnessShift[s];
    case Corruption::kContrast: {
      const torch::Tensor mean = x.mean();
      return (x - mean) * kContrastFactor[s] + mean;
    }
    case Corruption::kFog: {
      const double max_value = x.max().item<float>();
      const torch::Tensor fog =
          FogPattern(x.size(1), x.size(2), kFogDecay[s], gen);
      return (x + kFogDensity[s] * fog) * max_value /
             (max_value + kFogDensity[s]);
    }
    case Corruption::kJpeg:
      return Jpeg(x_u8, kJpegQuality[s]).to(torch::kFloat32) / 255;
    case Corruption::kPixelate:
      return Pixelate(x, kPixelateScale[s]);
  }
  LOG(FATAL) << "unknown corruption " << static_cast<int>(c);
}

}  // namespace

const std::vector<Corruption>& AllCorruptions() {
  static const auto* all = new std::vector<Corruption>{
      Corruption::kGaussianNoise, Corruption::kShotNoise,
      Corruption::kImpulseNoise,  Corruption::kDefocusBlur,
      Corruption::kMotionBlur,    Corruption::kBrightness,
      Corruption::kContrast,      Corruption::kFog,
      Corruption::kJpeg,          Corruption::kPixelate};
  return *all;
}

std::string CorruptionName(Corruption corruption) {
  switch (corruption) {
    case Corruption::kGaussianNoise:
      return "gaussian_noise";
    case Corruption::kShotNoise:
      return "shot_noise";
    case Corruption::kImpulseNoise:
      return "impulse_noise";
    case Corruption::kDefocusBlur:
      return "defocus_blur";
    case Corruption::kMotionBlur:
      return "motion_blur";
    case Corruption::kBrightness:
      return "brightness";
    case Corruption::kContrast:
      return "contrast";
    case Corruption::kFog:
      return "fog";
    case Corruption::kJpeg:
      return "jpeg";
    case Corruption::kPixelate:
      return "pixelate";
  }
  LOG(FATAL) << "unknown corruption " << static_cast<int>(corruption);
}

absl::StatusOr<Corruption> ParseCorruption(absl::string_view name) {
  std::vector<std::string> known;
  for (Corruption c : AllCorruptions()) {
    if (CorruptionName(c) == name) return c;
    known.push_back(CorruptionName(c));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown corruption '", name, "'; known: ", absl::StrJoin(known, ", ")));
}

torch::Tensor Corrupt(const torch::Tensor& images, const torch::Tensor& indices,
                      Corruption corruption, int severity, uint64_t seed) {
  CHECK_EQ(images.dim(), 4) << "images must be [B, C, H, W]";
  CHECK_EQ(images.scalar_type(), torch::kUInt8);
  CHECK(images.size(1) == 1 || images.size(1) == 3);
  CHECK_EQ(indices.dim(), 1);
  CHECK_EQ(indices.size(0), images.size(0));
  CHECK(severity >= 1 && severity <= kMaxSeverity) << severity;
  const torch::Tensor u8 = images.to(torch::kCPU).contiguous();
  const torch::Tensor index = indices.to(torch::kCPU, torch::kInt64);
  torch::Tensor out = torch::empty_like(u8);
  for (int64_t b = 0; b < u8.size(0); ++b) {
    at::Generator gen =
        ImageGenerator(seed, corruption, index[b].item<int64_t>());
    const torch::Tensor x = u8[b].to(torch::kFloat32) / 255;
    const torch::Tensor y = CorruptOne(x, u8[b], corruption, severity - 1, gen);
    out[b] = (y.clamp(0, 1) * 255).round().to(torch::kUInt8);
  }
  return out;
}

}  // namespace vit_moe::eval
