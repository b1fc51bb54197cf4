#include "augment/policy.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "augment/randaugment.h"
#include "common/field_checker.h"

namespace vit_moe::augment {
namespace {

// Every field off; presets switch on what they use. The alphas keep
// usable values so that a config which only raises a probability works.
AugmentConfig AllOff() {
  AugmentConfig config;
  config.set_randaugment_ops(0);
  config.set_randaugment_magnitude(0);
  config.set_crop_padding(0);
  config.set_horizontal_flip(false);
  config.set_color_jitter(0);
  config.set_rotation_degrees(0);
  config.set_erasing_probability(0);
  config.set_erasing_area_min(0.02);
  config.set_erasing_area_max(0.2);
  config.set_cutmix_alpha(1.0);
  config.set_cutmix_probability(0);
  config.set_mixup_alpha(0.8);
  config.set_mixup_probability(0);
  return config;
}

bool FlipsByDefault(data::DatasetName dataset) {
  return dataset != data::GTSRB;
}

absl::StatusOr<AugmentConfig> Preset(const std::string& name,
                                     data::DatasetName dataset) {
  AugmentConfig config = AllOff();
  config.set_preset(name);
  if (name == "none") return config;
  if (name == "light") {
    config.set_crop_padding(4);
    config.set_horizontal_flip(FlipsByDefault(dataset));
    return config;
  }
  if (name == "seed") {
    config.set_randaugment_ops(2);
    config.set_randaugment_magnitude(9);
    config.set_crop_padding(4);
    config.set_horizontal_flip(FlipsByDefault(dataset));
    config.set_color_jitter(0.1);
    config.set_rotation_degrees(15);
    config.set_erasing_probability(0.3);
    config.set_cutmix_probability(0.5);
    return config;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("augment.preset: unknown preset \"", name,
                   "\"; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace

const std::vector<std::string>& PresetNames() {
  static const auto* names =
      new std::vector<std::string>{"seed", "light", "none"};
  return *names;
}

absl::StatusOr<AugmentConfig> ResolveAugmentConfig(const AugmentConfig& config,
                                                   data::DatasetName dataset) {
  std::string preset = config.preset().empty() ? "seed" : config.preset();
  absl::StatusOr<AugmentConfig> resolved = Preset(preset, dataset);
  if (!resolved.ok()) return resolved.status();
  // Fields the config sets win; MergeFrom copies exactly the set optionals.
  AugmentConfig overrides = config;
  overrides.clear_preset();
  resolved->MergeFrom(overrides);
  if (dataset == data::GTSRB && resolved->horizontal_flip()) {
    LOG(WARNING) << "augment.horizontal_flip is on for GTSRB: flipped signs "
                    "such as \"keep left\" show another class";
  }
  absl::Status status = ValidateAugmentConfig(*resolved);
  if (!status.ok()) return status;
  return resolved;
}

absl::Status ValidateAugmentConfig(const AugmentConfig& c) {
  FieldChecker check("augment.");
  struct Range {
    absl::string_view field;
    double value, low, high;
  };
  const Range ranges[] = {
      {"randaugment_ops", double(c.randaugment_ops()), 0, kNumRandAugmentOps},
      {"randaugment_magnitude", double(c.randaugment_magnitude()), 0,
       kMaxMagnitude},
      {"crop_padding", double(c.crop_padding()), 0, 64},
      {"color_jitter", c.color_jitter(), 0, 1},
      {"rotation_degrees", c.rotation_degrees(), 0, 180},
      {"erasing_probability", c.erasing_probability(), 0, 1},
      {"erasing_area_min", c.erasing_area_min(), 0, 1},
      {"erasing_area_max", c.erasing_area_max(), 0, 1},
      {"cutmix_probability", c.cutmix_probability(), 0, 1},
      {"mixup_probability", c.mixup_probability(), 0, 1},
      {"cutmix_alpha", c.cutmix_alpha(), 0, 1e6},
      {"mixup_alpha", c.mixup_alpha(), 0, 1e6},
  };
  for (const Range& range : ranges) {
    check.InRange(range.value, range.low, range.high, range.field);
  }
  if (c.erasing_probability() > 0) {
    check.Require(
        c.erasing_area_min() > 0 &&
            c.erasing_area_min() <= c.erasing_area_max() &&
            c.erasing_area_max() < 1,
        "erasing_area_min/max",
        "must satisfy 0 < min <= max < 1 when erasing_probability "
        "> 0",
        absl::StrCat(c.erasing_area_min(), " and ", c.erasing_area_max()));
  }
  if (c.cutmix_probability() > 0) {
    check.Positive(c.cutmix_alpha(), "cutmix_alpha");
  }
  if (c.mixup_probability() > 0) {
    check.Positive(c.mixup_alpha(), "mixup_alpha");
  }
  check.Require(c.cutmix_probability() + c.mixup_probability() <= 1 + 1e-12,
                "cutmix_probability + mixup_probability",
                "must be <= 1 (a batch gets at most one of them)",
                absl::StrCat(c.cutmix_probability() + c.mixup_probability()));
  return check.status();
}

}  // namespace vit_moe::augment
