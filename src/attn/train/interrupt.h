// SIGINT / SIGTERM while training: the first one is noted and the trainer stops after the step in
// progress, writes a checkpoint and exits with 128 + the signal (130 / 143); a second one ends the
// process at once (checkpoint files are only ever renamed into place, so nothing is corrupted).
// Where nothing is being written and waiting would only waste the user's time (the final test
// evaluation), StopAtOnce makes the first signal end the process.
#pragma once

namespace attn {

/// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal received (SIGINT or SIGTERM), or 0.
  static int pending();
};

/// While it lives, the first SIGINT / SIGTERM prints `message` and ends the process (128 + the
/// signal); one received before it was made ends the process as it is made.
class StopAtOnce {
 public:
  explicit StopAtOnce(const char* message);
  ~StopAtOnce();
  StopAtOnce(const StopAtOnce&) = delete;
  StopAtOnce& operator=(const StopAtOnce&) = delete;
};

/// "SIGINT", "SIGTERM" or "signal N".
const char* signal_name(int sig);

}  // namespace attn
