#include "pipeline/schedule.h"

#include <algorithm>
#include <cmath>

namespace vit_moe::pipeline {

LearningRateSchedule::LearningRateSchedule(double peak,
                                           const ScheduleConfig& schedule,
                                           int64_t steps_per_epoch)
    : peak_(peak),
      floor_(peak * schedule.min_lr_ratio()),
      total_steps_(std::max<int64_t>(1, steps_per_epoch * schedule.epochs())),
      warmup_steps_(std::llround(schedule.warmup_epochs() * steps_per_epoch)) {
  warmup_steps_ = std::clamp<int64_t>(warmup_steps_, 0, total_steps_ - 1);
}

double LearningRateSchedule::At(int64_t step) const {
  if (step < warmup_steps_) {
    return peak_ * static_cast<double>(step + 1) / warmup_steps_;
  }
  int64_t decay_steps = total_steps_ - warmup_steps_;
  double progress =
      decay_steps <= 1
          ? 0.0
          : std::min(1.0, static_cast<double>(step - warmup_steps_) /
                              (decay_steps - 1));
  return floor_ + (peak_ - floor_) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

bool IsEvaluationEpoch(const EvalCadence& cadence, int epoch,
                       int total_epochs) {
  if (epoch == total_epochs) return true;
  if (epoch < cadence.start_epoch()) return false;
  return (epoch - cadence.start_epoch()) % cadence.every_epochs() == 0;
}

}  // namespace vit_moe::pipeline
