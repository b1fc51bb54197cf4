#include "pipeline/progress.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/str_format.h"

namespace vit_moe::pipeline {

std::string FormatDuration(double seconds) {
  int64_t s = std::isfinite(seconds) && seconds > 0 ? std::llround(seconds) : 0;
  if (s >= 3600) {
    return absl::StrFormat("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
  }
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

std::string FormatProgress(const StepProgress& p) {
  return absl::StrFormat(
      "epoch %d/%d step %d/%d loss %.4f acc %.2f%% %.1f img/s ETA %s", p.epoch,
      p.epochs, p.step_in_epoch, p.steps_per_epoch, p.loss, 100 * p.accuracy,
      p.images_per_second, FormatDuration(p.eta_seconds));
}

ProgressReporter::ProgressReporter(std::ostream& out, bool live,
                                   int log_every_steps)
    : out_(out), live_(live), log_every_steps_(log_every_steps) {}

ProgressReporter::~ProgressReporter() {
  if (live_width_ > 0) out_ << "\n" << std::flush;
}

void ProgressReporter::Step(const StepProgress& progress) {
  std::string text = FormatProgress(progress);
  if (live_) {
    // Pad over the previous line's tail when the new one is shorter.
    size_t width = text.size();
    if (width < live_width_) text.append(live_width_ - width, ' ');
    out_ << "\r" << text << std::flush;
    live_width_ = std::max(live_width_, width);
    return;
  }
  if (progress.step_in_epoch % log_every_steps_ == 0) {
    out_ << text << "\n" << std::flush;
  }
}

void ProgressReporter::Line(const std::string& text) {
  if (live_width_ > 0) {
    out_ << "\r" << std::string(live_width_, ' ') << "\r";
    live_width_ = 0;
  }
  out_ << text << "\n" << std::flush;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace vit_moe::pipeline
