// Training progress for people watching: on a terminal one live line
// rewritten in place (epoch/step, loss, accuracy, images/s, ETA); otherwise
// (logs, CI) a plain line every N steps. Epoch summaries are always whole
// lines.
#ifndef VIT_MOE_PIPELINE_PROGRESS_H_
#define VIT_MOE_PIPELINE_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace vit_moe::pipeline {

struct StepProgress {
  int epoch = 0;  // 1-based
  int epochs = 0;
  int64_t step_in_epoch = 0;  // 1-based, steps done in this epoch
  int64_t steps_per_epoch = 0;
  double loss = 0;      // running mean over the epoch
  double accuracy = 0;  // running share over the epoch, 0..1
  double images_per_second = 0;
  double eta_seconds = 0;  // until the end of training
};

// "epoch 3/30 step 120/468 loss 0.8123 acc 71.20% 812.4 img/s ETA 12m03s"
std::string FormatProgress(const StepProgress& progress);
// "1h02m03s", "12m03s", "45s".
std::string FormatDuration(double seconds);

class ProgressReporter {
 public:
  // `live`: rewrite one line with '\r' (use when `out` is a terminal).
  ProgressReporter(std::ostream& out, bool live, int log_every_steps);
  ~ProgressReporter();

  void Step(const StepProgress& progress);
  // A whole line (epoch summary, checkpoint notice); ends any live line.
  void Line(const std::string& text);

 private:
  std::ostream& out_;
  bool live_;
  int log_every_steps_;
  size_t live_width_ = 0;  // characters of the live line on screen
};

// True when stderr is a terminal.
bool StderrIsTerminal();

}  // namespace vit_moe::pipeline

#endif  // VIT_MOE_PIPELINE_PROGRESS_H_
