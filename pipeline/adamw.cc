#include "pipeline/adamw.h"

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace vit_moe::pipeline {

AdamW::AdamW(std::vector<ParameterGroup> groups, const OptimizerConfig& config)
    : beta1_(config.beta1()),
      beta2_(config.beta2()),
      epsilon_(config.epsilon()) {
  for (ParameterGroup& group : groups) {
    for (auto& [name, parameter] : group.parameters) {
      slots_.push_back(
          Slot{name, parameter, group.weight_decay, group.lr_scale, {}, {}, 0});
    }
  }
}

void AdamW::ZeroGrad() {
  for (Slot& slot : slots_) {
    if (slot.parameter.grad().defined()) {
      slot.parameter.mutable_grad() = torch::Tensor();
    }
  }
}

void AdamW::Step(double scheduled_lr) {
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    const double lr = scheduled_lr * slot.lr_scale;
    const torch::Tensor& grad = slot.parameter.grad();
    if (!grad.defined()) continue;
    if (!slot.exp_avg.defined()) {
      slot.exp_avg = torch::zeros_like(slot.parameter);
      slot.exp_avg_sq = torch::zeros_like(slot.parameter);
    }
    ++slot.step;
    slot.exp_avg.mul_(beta1_).add_(grad, 1 - beta1_);
    slot.exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
    double bias1 = 1 - std::pow(beta1_, slot.step);
    double bias2 = 1 - std::pow(beta2_, slot.step);
    torch::Tensor denom =
        (slot.exp_avg_sq.sqrt() / std::sqrt(bias2)).add_(epsilon_);
    slot.parameter.mul_(1 - lr * slot.weight_decay);
    slot.parameter.addcdiv_(slot.exp_avg, denom, -lr / bias1);
  }
}

NamedTensors AdamW::StateTensors() const {
  NamedTensors state;
  for (const Slot& slot : slots_) {
    if (!slot.exp_avg.defined()) continue;
    state.emplace_back(slot.name + "/exp_avg", slot.exp_avg);
    state.emplace_back(slot.name + "/exp_avg_sq", slot.exp_avg_sq);
    state.emplace_back(slot.name + "/step",
                       torch::tensor(slot.step, torch::kInt64));
  }
  return state;
}

absl::Status AdamW::LoadStateTensors(const NamedTensors& state) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  size_t used = 0;
  torch::NoGradGuard no_grad;
  for (Slot& slot : slots_) {
    auto avg = by_name.find(slot.name + "/exp_avg");
    auto avg_sq = by_name.find(slot.name + "/exp_avg_sq");
    auto step = by_name.find(slot.name + "/step");
    int found = (avg != by_name.end()) + (avg_sq != by_name.end()) +
                (step != by_name.end());
    if (found == 0) {
      slot.exp_avg = slot.exp_avg_sq = torch::Tensor();
      slot.step = 0;
      continue;
    }
    if (found != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer state of ", slot.name, " is incomplete"));
    }
    for (auto it : {avg, avg_sq}) {
      if (!it->second.sizes().equals(slot.parameter.sizes())) {
        return absl::InvalidArgumentError(
            absl::StrCat("optimizer state ", it->first, " has shape ",
                         c10::str(it->second.sizes()), ", parameter has ",
                         c10::str(slot.parameter.sizes())));
      }
    }
    slot.exp_avg = avg->second.to(slot.parameter.options()).clone();
    slot.exp_avg_sq = avg_sq->second.to(slot.parameter.options()).clone();
    slot.step = step->second.item<int64_t>();
    used += 3;
  }
  if (used != state.size()) {
    for (const auto& [name, tensor] : state) {
      bool known = false;
      for (const Slot& slot : slots_) {
        if (name.rfind(slot.name + "/", 0) == 0) known = true;
      }
      if (!known) {
        return absl::InvalidArgumentError(
            absl::StrCat("optimizer state ", name, " matches no parameter"));
      }
    }
  }
  return absl::OkStatus();
}

double ClipGradientNorm(const std::vector<torch::Tensor>& parameters,
                        double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : parameters) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    norms.push_back(p.grad().detach().to(torch::kFloat32).norm());
  }
  if (norms.empty()) return 0;
  double total = torch::stack(norms).norm().item<double>();
  if (max_norm > 0 && std::isfinite(total) && total > max_norm) {
    double scale = max_norm / (total + 1e-6);
    for (torch::Tensor& g : grads) g.mul_(scale);
  }
  return total;
}

}  // namespace vit_moe::pipeline
