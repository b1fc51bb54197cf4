#include "augment/policy.h"

#include <glog/logging.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "augment/randaugment.h"
#include "common/field_checker.h"
#include "google/protobuf/text_format.h"

namespace vit_moe::augment {
namespace {

// The presets in the form a config file's `augment { }` takes, each
// written over kAllOff: every field off, the alphas at usable values so
// that a config which only raises a probability works. Flips are on in the
// text and turned off for GTSRB, where a flipped sign can be another class.
constexpr char kAllOff[] = R"pb(
  randaugment_ops: 0
  randaugment_magnitude: 0
  crop_padding: 0
  horizontal_flip: false
  color_jitter: 0
  rotation_degrees: 0
  erasing_probability: 0
  erasing_area_min: 0.02
  erasing_area_max: 0.2
  cutmix_alpha: 1.0
  cutmix_probability: 0
  mixup_alpha: 0.8
  mixup_probability: 0
)pb";

constexpr std::pair<const char*, const char*> kPresets[] = {
    {"seed", R"pb(
       randaugment_ops: 2
       randaugment_magnitude: 9
       crop_padding: 4
       horizontal_flip: true
       color_jitter: 0.1
       rotation_degrees: 15
       erasing_probability: 0.3
       cutmix_probability: 0.5
     )pb"},
    {"light", R"pb(crop_padding: 4 horizontal_flip: true)pb"},
    {"none", ""},
};

absl::StatusOr<AugmentConfig> Preset(const std::string& name,
                                     data::DatasetName dataset) {
  for (const auto& [preset, text] : kPresets) {
    if (name != preset) continue;
    AugmentConfig config;
    CHECK(google::protobuf::TextFormat::ParseFromString(kAllOff, &config) &&
          google::protobuf::TextFormat::MergeFromString(text, &config))
        << "augment preset " << name << " does not parse";
    config.set_preset(name);
    if (dataset == data::GTSRB) config.set_horizontal_flip(false);
    return config;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("augment.preset: unknown preset \"", name,
                   "\"; known: ", absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace

const std::vector<std::string>& PresetNames() {
  static const auto* names = [] {
    auto* list = new std::vector<std::string>;
    for (const auto& [name, text] : kPresets) list->push_back(name);
    return list;
  }();
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
