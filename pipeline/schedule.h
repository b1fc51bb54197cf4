// When things happen during training: the learning rate of each optimizer
// step (linear warm-up, then cosine to a floor) and which epochs are
// evaluated on validation.
#ifndef VIT_MOE_PIPELINE_SCHEDULE_H_
#define VIT_MOE_PIPELINE_SCHEDULE_H_

#include <cstdint>

#include "pipeline/train_config.pb.h"

namespace vit_moe::pipeline {

class LearningRateSchedule {
 public:
  // `steps_per_epoch` optimizer steps in each of `schedule.epochs()` epochs;
  // warm-up length is rounded to whole steps.
  LearningRateSchedule(double peak, const ScheduleConfig& schedule,
                       int64_t steps_per_epoch);

  // Rate for 0-based optimizer step `step`: warm-up ramps (step+1)/W of the
  // peak so the first step already moves; cosine runs from the peak at the
  // end of warm-up to peak * min_lr_ratio at the last step.
  double At(int64_t step) const;

  int64_t total_steps() const { return total_steps_; }
  int64_t warmup_steps() const { return warmup_steps_; }

 private:
  double peak_;
  double floor_;
  int64_t total_steps_;
  int64_t warmup_steps_;
};

// True when 1-based `epoch` is validated: from eval.start_epoch every
// eval.every_epochs epochs, and always the last epoch.
bool IsEvaluationEpoch(const EvalCadence& cadence, int epoch, int total_epochs);

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_SCHEDULE_H_
