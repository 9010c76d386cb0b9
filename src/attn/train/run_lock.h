// One process owns a run directory: an advisory lock (flock) on DIR/run.lock, taken before the
// run writes anything and held until it ends. The kernel releases it when the process dies, so
// kill -9 never leaves a stale lock. The file names its holder (pid, host, start time, command)
// for the message a second `attn train` on the directory gets. Rank 0 holds it for all the ranks
// of a distributed run (the others write nothing there).
#pragma once

#include <string>

namespace attn {

class RunLock {
 public:
  /// Locks `dir` (created when missing). Throws UsageError (exit 2) naming the holder when another
  /// process has it.
  RunLock(const std::string& dir, const std::string& command);
  /// Releases the lock and removes run.lock; removes `dir` too when this created it and nothing
  /// else was written there (a run that failed before starting leaves nothing).
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  /// After the locked directory was moved to `aside` (--force): releases it there and locks a
  /// new `dir` of the same name.
  void moved_aside(const std::string& aside);

 private:
  void acquire();
  void release();

  std::string dir_, path_, command_;
  int fd_ = -1;
  bool created_dir_ = false;
};

}  // namespace attn
