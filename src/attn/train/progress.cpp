#include "attn/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "attn/core/stopwatch.h"

namespace attn {

std::string format_duration(double seconds) {
  char buf[32];
  const auto s = static_cast<long long>(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

Progress::Progress(RunDirectory& dir, bool shown, int64_t log_every, int64_t total_steps, int64_t start_step,
                   int64_t batches_per_epoch)
    : dir_(dir), shown_(shown), tty_(::isatty(::fileno(stderr))), log_every_(log_every), total_steps_(total_steps),
      start_step_(start_step), batches_per_epoch_(batches_per_epoch), loop_start_(Clock::now()),
      window_start_(loop_start_) {}

void Progress::add(const StepTotals& step) {
  loss_ += step.loss, correct_ += step.correct, units_ += step.units, samples_ += step.samples;
}

void Progress::report(const TrainState& state, double lr, bool last) {
  const bool due = state.step % log_every_ == 0 || last;
  if (!shown_ || !(due || tty_)) return;
  const double rate = samples_ / std::max(seconds_since(window_start_), 1e-9);
  const double steps_done = double(state.step - start_step_);
  const double eta = seconds_since(loop_start_) / std::max(steps_done, 1.0) * double(total_steps_ - state.step);
  const double epoch_pos = state.epoch + double(state.batch) / double(batches_per_epoch_);
  char line[256];
  std::snprintf(line, sizeof line,
                "[train] step %lld/%lld epoch %.2f | loss %.4f | accuracy %.4f | lr %.2e | %.0f samples/s | ETA %s",
                static_cast<long long>(state.step), static_cast<long long>(total_steps_), epoch_pos,
                loss_ / units_, correct_ / units_, lr, rate, format_duration(eta).c_str());
  if (state.beta > 0) {  // model.beta_schedule: how sharp the attention is by now
    const size_t n = std::strlen(line);
    std::snprintf(line + n, sizeof line - n, " | beta %.3g", state.beta);
  }
  if (!due) {
    std::fprintf(stderr, "\r\033[K%s", line);
    return;
  }
  clear_line();
  dir_.log().info("{}", line);
  nlohmann::json record = {{"kind", "train"}, {"step", state.step}, {"epoch", epoch_pos}, {"loss", loss_ / units_},
                           {"accuracy", correct_ / units_}, {"lr", lr}, {"samples_per_sec", rate}};
  if (state.beta > 0) record["beta"] = state.beta;
  dir_.record(record);
  window_start_ = Clock::now();
  loss_ = correct_ = units_ = samples_ = 0;
}

void Progress::clear_line() const {
  if (tty_) std::fprintf(stderr, "\r\033[K");
}

double Progress::seconds() const { return seconds_since(loop_start_); }

}  // namespace attn
