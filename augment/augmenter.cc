#include "augment/augmenter.h"

#include <ATen/Parallel.h>
#include <glog/logging.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "augment/policy.h"
#include "augment/randaugment.h"

namespace vit_moe::augment {
namespace {

// Samples per parallel task: a 32x32 image takes tens of microseconds, so
// smaller chunks would spend more on scheduling than on work.
constexpr int64_t kGrainSize = 8;

// torchvision's RandomErasing aspect-ratio range and attempt count.
constexpr double kEraseRatioMin = 0.3;
constexpr double kEraseRatioMax = 3.3;
constexpr int kEraseAttempts = 10;

void CheckBatch(const torch::Tensor& images, const torch::Tensor& indices) {
  CHECK_EQ(images.dim(), 4) << "expected [B, C, H, W]";
  CHECK_EQ(indices.dim(), 1);
  CHECK_EQ(indices.size(0), images.size(0));
  CHECK(indices.scalar_type() == torch::kInt64);
}

// dst[i] = src[(i - 1) mod B] for i over the batch dimension. Copies in
// place: materialising the rolled batch (Tensor::roll, or cat + clone)
// costs 100x more here, in allocation and page faults of a fresh buffer.
void CopyRolledByOne(const torch::Tensor& src, torch::Tensor dst) {
  const int64_t b = src.size(0);
  dst.slice(0, 1, b).copy_(src.slice(0, 0, b - 1));
  dst.slice(0, 0, 1).copy_(src.slice(0, b - 1, b));
}

// dst[i] += alpha * src[(i - 1) mod B].
void AddRolledByOne(const torch::Tensor& src, torch::Tensor dst, double alpha) {
  const int64_t b = src.size(0);
  dst.slice(0, 1, b).add_(src.slice(0, 0, b - 1), alpha);
  dst.slice(0, 0, 1).add_(src.slice(0, b - 1, b), alpha);
}

}  // namespace

absl::StatusOr<Augmenter> Augmenter::Create(const AugmentConfig& config,
                                            data::DatasetName dataset) {
  absl::StatusOr<AugmentConfig> resolved =
      ResolveAugmentConfig(config, dataset);
  if (!resolved.ok()) return resolved.status();
  return Augmenter(*std::move(resolved));
}

bool Augmenter::has_image_ops() const {
  const AugmentConfig& c = resolved_;
  return c.randaugment_ops() > 0 || c.crop_padding() > 0 ||
         c.horizontal_flip() || c.color_jitter() > 0 ||
         c.rotation_degrees() > 0;
}

void Augmenter::AugmentOne(Image& image, SampleRandom& random) const {
  const AugmentConfig& c = resolved_;
  if (c.randaugment_ops() > 0) {
    RandAugment(image, c.randaugment_ops(), c.randaugment_magnitude(), random);
  }
  if (c.crop_padding() > 0) {
    int span = 2 * c.crop_padding() + 1;
    int top = static_cast<int>(random.Below(span));
    int left = static_cast<int>(random.Below(span));
    image = PadAndCrop(image, c.crop_padding(), top, left);
  }
  if (c.horizontal_flip() && random.Bernoulli(0.5)) {
    image = FlipHorizontal(image);
  }
  if (c.color_jitter() > 0) {
    double low = std::max(0.0, 1.0 - c.color_jitter());
    double high = 1.0 + c.color_jitter();
    std::array<int, 3> order = {0, 1, 2};
    // Fisher-Yates with our own draws (std::shuffle's use of the generator
    // is not specified).
    for (int i = 2; i > 0; --i) std::swap(order[i], order[random.Below(i + 1)]);
    for (int which : order) {
      double factor = random.Uniform(low, high);
      if (which == 0) AdjustBrightness(image, factor);
      if (which == 1) AdjustContrast(image, factor);
      if (which == 2) AdjustSaturation(image, factor);
    }
  }
  if (c.rotation_degrees() > 0) {
    double degrees =
        random.Uniform(-c.rotation_degrees(), c.rotation_degrees());
    image = WarpAffine(image, RotationMap(degrees, image.height, image.width));
  }
}

torch::Tensor Augmenter::AugmentImages(const torch::Tensor& images,
                                       const torch::Tensor& indices,
                                       uint64_t seed, int64_t epoch) const {
  CheckBatch(images, indices);
  CHECK(images.scalar_type() == torch::kUInt8);
  int channels = static_cast<int>(images.size(1));
  CHECK(channels == 1 || channels == 3) << channels;
  int height = static_cast<int>(images.size(2));
  int width = static_cast<int>(images.size(3));
  torch::Tensor input = images.contiguous();
  torch::Tensor index = indices.contiguous();
  if (!has_image_ops()) return input.clone();

  torch::Tensor output = torch::empty_like(input);
  const uint8_t* in = input.data_ptr<uint8_t>();
  uint8_t* out = output.data_ptr<uint8_t>();
  const int64_t* ids = index.data_ptr<int64_t>();
  size_t image_bytes = static_cast<size_t>(channels) * height * width;
  at::parallel_for(
      0, input.size(0), kGrainSize, [&](int64_t begin, int64_t end) {
        Image image(channels, height, width);
        for (int64_t i = begin; i < end; ++i) {
          std::memcpy(image.pixels.data(), in + i * image_bytes, image_bytes);
          SampleRandom random(seed, epoch, ids[i], RandomStream::kImageOps);
          AugmentOne(image, random);
          std::memcpy(out + i * image_bytes, image.pixels.data(), image_bytes);
        }
      });
  return output;
}

torch::Tensor Augmenter::EraseImages(const torch::Tensor& normalized,
                                     const torch::Tensor& indices,
                                     uint64_t seed, int64_t epoch) const {
  CheckBatch(normalized, indices);
  CHECK(normalized.scalar_type() == torch::kFloat32);
  torch::Tensor output = normalized.contiguous().clone();
  if (resolved_.erasing_probability() <= 0) return output;
  torch::Tensor index = indices.contiguous();
  const int64_t channels = output.size(1);
  const int64_t height = output.size(2);
  const int64_t width = output.size(3);
  const double pixels = static_cast<double>(height * width);
  float* data = output.data_ptr<float>();
  const int64_t* ids = index.data_ptr<int64_t>();
  const AugmentConfig& c = resolved_;
  at::parallel_for(
      0, output.size(0), kGrainSize, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          SampleRandom random(seed, epoch, ids[i], RandomStream::kErasing);
          if (!random.Bernoulli(c.erasing_probability())) continue;
          for (int attempt = 0; attempt < kEraseAttempts; ++attempt) {
            double area = pixels * random.Uniform(c.erasing_area_min(),
                                                  c.erasing_area_max());
            double ratio = std::exp(random.Uniform(std::log(kEraseRatioMin),
                                                   std::log(kEraseRatioMax)));
            int64_t h = std::llround(std::sqrt(area * ratio));
            int64_t w = std::llround(std::sqrt(area / ratio));
            // Rounding may leave the area range; such a draw is retried so the
            // erased share always honours the configured bounds.
            double share = static_cast<double>(h * w) / pixels;
            if (h < 1 || w < 1 || h >= height || w >= width ||
                share < c.erasing_area_min() || share > c.erasing_area_max()) {
              continue;
            }
            int64_t top = random.Below(height - h + 1);
            int64_t left = random.Below(width - w + 1);
            for (int64_t ch = 0; ch < channels; ++ch) {
              for (int64_t y = top; y < top + h; ++y) {
                float* row = data + ((i * channels + ch) * height + y) * width;
                std::fill(row + left, row + left + w, 0.0f);
              }
            }
            break;
          }
        }
      });
  return output;
}

MixedBatch Augmenter::MixBatch(const torch::Tensor& images,
                               const torch::Tensor& labels, int64_t num_classes,
                               uint64_t seed, int64_t epoch,
                               int64_t batch_index) const {
  CHECK_EQ(images.dim(), 4) << "expected [B, C, H, W]";
  CHECK(images.is_floating_point());
  CHECK_EQ(labels.dim(), 1);
  CHECK_EQ(labels.size(0), images.size(0));
  CHECK_GT(num_classes, 0);
  CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 &&
                                labels.max().item<int64_t>() < num_classes))
      << "labels outside [0, " << num_classes << ")";
  torch::Tensor one_hot =
      torch::one_hot(labels, num_classes).to(images.scalar_type());  // [B, C]
  SampleRandom random(seed, epoch, batch_index, RandomStream::kMixing);
  double draw = random.Uniform();
  const AugmentConfig& c = resolved_;
  bool cutmix = draw < c.cutmix_probability();
  bool mixup = !cutmix && draw < c.cutmix_probability() + c.mixup_probability();
  if ((!cutmix && !mixup) || images.size(0) == 0) return {images, one_hot};

  double weight;        // share of each sample's own image and label
  torch::Tensor mixed;  // [B, C, H, W]
  if (cutmix) {
    double lambda = random.Beta(c.cutmix_alpha(), c.cutmix_alpha());
    int64_t height = images.size(2);
    int64_t width = images.size(3);
    double side = std::sqrt(1.0 - lambda);
    int64_t cut_h = static_cast<int64_t>(height * side);
    int64_t cut_w = static_cast<int64_t>(width * side);
    int64_t cy = random.Below(height);
    int64_t cx = random.Below(width);
    int64_t y0 = std::clamp<int64_t>(cy - cut_h / 2, 0, height);
    int64_t y1 = std::clamp<int64_t>(cy + cut_h / 2, 0, height);
    int64_t x0 = std::clamp<int64_t>(cx - cut_w / 2, 0, width);
    int64_t x1 = std::clamp<int64_t>(cx + cut_w / 2, 0, width);
    mixed = images.clone();
    CopyRolledByOne(images.slice(2, y0, y1).slice(3, x0, x1),
                    mixed.slice(2, y0, y1).slice(3, x0, x1));
    // The label weight is the area actually pasted, after clipping.
    weight = 1.0 - static_cast<double>((y1 - y0) * (x1 - x0)) /
                       static_cast<double>(height * width);
  } else {
    weight = random.Beta(c.mixup_alpha(), c.mixup_alpha());
    mixed = images * weight;
    AddRolledByOne(images, mixed, 1.0 - weight);
  }
  torch::Tensor targets = one_hot * weight;  // [B, C]
  AddRolledByOne(one_hot, targets, 1.0 - weight);
  return {mixed, targets};
}

}  // namespace vit_moe::augment
