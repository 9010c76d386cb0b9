// The training progress: every train.log_every steps a log line and a metrics.jsonl record
// (loss, accuracy, lr, samples/s and ETA over the steps since the last one); on a terminal, a
// line updated after every step in between. Rank 0's alone.
#pragma once

#include <chrono>
#include <cstdint>

#include "attn/io/checkpoint.h"
#include "attn/train/replicas.h"
#include "attn/train/run_directory.h"

namespace attn {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  Progress(RunDirectory& dir, bool shown, int64_t log_every, int64_t total_steps, int64_t start_step,
           int64_t batches_per_epoch);

  /// Adds a step's totals to the current window.
  void add(const StepTotals& step);
  /// After a step: the line, logged and recorded when due (`last`: the run's final step).
  void report(const TrainState& state, double lr, bool last);
  /// Leaves `pause` (a validation) out of the samples/s.
  void exclude(Clock::duration pause) { window_start_ += pause; }
  /// Erases the terminal's progress line before another message.
  void clear_line() const;
  /// Seconds since the loop started.
  double seconds() const;

 private:
  RunDirectory& dir_;
  bool shown_, tty_;
  int64_t log_every_, total_steps_, start_step_, batches_per_epoch_;
  Clock::time_point loop_start_, window_start_;
  double loss_ = 0, correct_ = 0, units_ = 0, samples_ = 0;
};

/// "4m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace attn
