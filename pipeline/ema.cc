#include "pipeline/ema.h"

#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "model/tensor_record.h"

namespace vit_moe::pipeline {

WeightAverage::WeightAverage(torch::nn::Module& module, double decay,
                             double warmup_power)
    : decay_(decay), warmup_power_(warmup_power) {
  CHECK(decay > 0 && decay < 1) << decay;
  CHECK(warmup_power >= 0) << warmup_power;
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : model::ModuleTensors(module)) {
    if (!tensor.is_floating_point()) continue;
    live_.emplace_back(name, tensor);
    average_.push_back(tensor.detach().to(torch::kFloat32,
                                          /*non_blocking=*/false,
                                          /*copy=*/true));
  }
}

double WeightAverage::DecayAt(int64_t step) const {
  if (warmup_power_ == 0) return decay_;
  const double warm =
      1.0 - std::pow(1.0 + static_cast<double>(step), -warmup_power_);
  return std::min(decay_, warm);
}

void WeightAverage::Update(int64_t step) {
  torch::NoGradGuard no_grad;
  const double d = DecayAt(step);
  for (size_t i = 0; i < live_.size(); ++i) {
    // lerp_: average += (1 - d) * (weight - average), one pass.
    average_[i].lerp_(live_[i].second.detach().to(torch::kFloat32), 1.0 - d);
  }
}

void WeightAverage::Swap() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_.size(); ++i) {
    torch::Tensor& weight = live_[i].second;
    torch::Tensor held = weight.detach().to(torch::kFloat32, false, true);
    weight.copy_(average_[i]);
    average_[i] = held;
  }
}

NamedTensors WeightAverage::StateTensors() const {
  NamedTensors state;
  for (size_t i = 0; i < live_.size(); ++i) {
    state.emplace_back(live_[i].first, average_[i]);
  }
  return state;
}

absl::Status WeightAverage::LoadStateTensors(const NamedTensors& state) {
  std::map<std::string, torch::Tensor> by_name;
  for (const auto& [name, tensor] : state) {
    if (!by_name.emplace(name, tensor).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight average ", name, " appears twice"));
    }
  }
  std::vector<torch::Tensor> loaded;
  for (size_t i = 0; i < live_.size(); ++i) {
    const std::string& name = live_[i].first;
    auto found = by_name.find(name);
    if (found == by_name.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight average ", name, " is missing"));
    }
    const torch::Tensor& t = found->second;
    if (t.sizes() != average_[i].sizes() ||
        t.scalar_type() != torch::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weight average ", name, " has shape ", c10::str(t.sizes()), " and ",
          c10::toString(t.scalar_type()), "; expected ",
          c10::str(average_[i].sizes()), " and Float"));
    }
    loaded.push_back(t.to(average_[i].device(), false, true));
    by_name.erase(found);
  }
  if (!by_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weight average ", by_name.begin()->first, " matches no model tensor"));
  }
  average_ = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace vit_moe::pipeline
