#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "data/random.h"

namespace vit_moe::data {
namespace {

// Largest-remainder apportionment of `total` over classes by class size.
std::vector<int64_t> ClassQuotas(const std::vector<int64_t>& class_sizes,
                                 double fraction) {
  int64_t n = 0;
  for (int64_t size : class_sizes) n += size;
  const int64_t total = std::llround(fraction * static_cast<double>(n));
  std::vector<int64_t> quotas(class_sizes.size());
  std::vector<std::pair<double, size_t>> remainders;
  int64_t assigned = 0;
  for (size_t c = 0; c < class_sizes.size(); ++c) {
    double exact = n == 0 ? 0.0
                          : static_cast<double>(total) *
                                static_cast<double>(class_sizes[c]) /
                                static_cast<double>(n);
    quotas[c] = static_cast<int64_t>(std::floor(exact + 1e-9));
    assigned += quotas[c];
    remainders.push_back({exact - static_cast<double>(quotas[c]), c});
  }
  // Ties go to the lower class id: stable and platform independent.
  std::stable_sort(
      remainders.begin(), remainders.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; assigned < total && i < remainders.size();
       ++i, ++assigned) {
    ++quotas[remainders[i].second];
  }
  return quotas;
}

}  // namespace

absl::StatusOr<SplitIndices> SplitTrainValidation(const ImageSet& images,
                                                  int num_classes,
                                                  double validation_fraction,
                                                  uint64_t seed) {
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validation fraction must be in [0, 1), got ", validation_fraction));
  }
  const int64_t n = images.size();
  if (!images.groups.empty() &&
      static_cast<int64_t>(images.groups.size()) != n) {
    return absl::InvalidArgumentError("group ids and labels differ in count");
  }
  // Groups per class in order of first appearance, with their members.
  std::vector<std::vector<std::vector<int64_t>>> groups(num_classes);
  std::vector<int64_t> class_sizes(num_classes, 0);
  std::map<int64_t, std::pair<int, size_t>> group_slot;  // id -> class, slot
  for (int64_t i = 0; i < n; ++i) {
    int label = images.labels[i];
    if (label >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label ", label, " of image ", i, " is not below ", num_classes));
    }
    ++class_sizes[label];
    if (images.groups.empty()) {
      groups[label].push_back({i});
      continue;
    }
    auto [it, inserted] =
        group_slot.try_emplace(images.groups[i], label, groups[label].size());
    if (inserted) {
      groups[label].emplace_back();
    } else if (it->second.first != label) {
      return absl::InvalidArgumentError(
          absl::StrCat("group ", images.groups[i], " holds images of classes ",
                       it->second.first, " and ", label));
    }
    groups[label][it->second.second].push_back(i);
  }
  std::vector<int64_t> quotas = ClassQuotas(class_sizes, validation_fraction);
  std::vector<bool> in_validation(n, false);
  for (int c = 0; c < num_classes; ++c) {
    std::vector<size_t> order(groups[c].size());
    for (size_t g = 0; g < order.size(); ++g) order[g] = g;
    SplitMix64 rng(MixSeed(seed, static_cast<uint64_t>(c)));
    Shuffle(order, rng);
    int64_t taken = 0;
    for (size_t k = 0; k + 1 < order.size() && taken < quotas[c]; ++k) {
      for (int64_t i : groups[c][order[k]]) in_validation[i] = true;
      taken += static_cast<int64_t>(groups[c][order[k]].size());
    }
  }
  SplitIndices split;
  for (int64_t i = 0; i < n; ++i) {
    (in_validation[i] ? split.validation : split.train).push_back(i);
  }
  return split;
}

}  // namespace vit_moe::data
