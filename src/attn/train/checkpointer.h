// The run's checkpoints: step_N.pt at each validation (and every train.save_every steps),
// best.pt when validation improves, the last train.keep_last step files kept. Rank 0 writes;
// other ranks only keep count. A failed write ends the run: the files already there are
// untouched, and --resume continues from the newest.
#pragma once

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <string>

#include "attn/io/checkpoint.h"

namespace attn {

class Checkpointer {
 public:
  /// `last_path` / `last_step`: the checkpoint a resumed run started from ("" / -1: none).
  Checkpointer(std::string dir, int64_t keep_last, bool writes, std::string last_path, int64_t last_step);

  /// Writes step_<header.state.step>.pt (and best.pt), atomically, then prunes old step files.
  void save(const CheckpointHeader& header, torch::nn::Module& model, torch::optim::Optimizer& optimizer, bool best);

  /// On resume: makes best.pt hold the step `state` calls best (a run an older attn stopped
  /// between its two writes, or a best.pt removed by hand), from that step's file when it is
  /// still there; otherwise the next validation is taken as the best so far. Logged either way.
  void reconcile_best(TrainState& state, spdlog::logger& log);

  /// The step of the newest checkpoint (-1: none yet).
  int64_t saved_step() const { return saved_step_; }
  /// The newest checkpoint's path ("" before the first).
  const std::string& last_path() const { return last_path_; }
  /// "The last good checkpoint is ..." or "No checkpoint was written yet.", for messages.
  std::string last_good() const;

 private:
  std::string dir_;
  int64_t keep_last_;
  bool writes_;
  std::string last_path_;
  int64_t saved_step_;
};

}  // namespace attn
