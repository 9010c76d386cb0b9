// Where a run is and what comes next. The training position (TrainState's epoch, batch and
// step) moves on by a step or a skipped step; the loop's questions are answered here from the
// config: is the epoch over, validate now, save a checkpoint now, stop. Loop::run reads as the
// sequence of these answers.
#pragma once

#include <cstdint>

#include "attn/config/config.h"
#include "attn/io/checkpoint.h"

namespace attn {

class Schedule {
 public:
  /// `batches_per_epoch`: the batches of one epoch of this run's data and batch size.
  Schedule(const TrainConfig& train, int64_t batches_per_epoch);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  /// Optimizer steps of the whole run: train.epochs of ceil(batches / grad_accum), at most
  /// train.max_steps.
  int64_t total_steps() const { return total_steps_; }

  /// A checkpoint of a run with more batches per epoch stopped past this epoch's end (resumed
  /// with larger batches or less data): moves to the next epoch's start. Returns whether it did.
  bool leave_finished_epoch(TrainState& s) const;
  /// Another epoch to run, and steps left.
  bool more_epochs(const TrainState& s) const { return s.epoch < train_.epochs && !finished(s); }
  /// The end (exclusive) of the batches of the step that starts at s.batch: train.grad_accum
  /// batches, fewer at the epoch's end.
  int64_t step_end(const TrainState& s) const;

  /// One optimizer step over batches s.batch..last-1 taken: the step counted, the next epoch
  /// begun when this one is over. Returns whether it was (the epoch ended).
  bool step_taken(TrainState& s, int64_t last) const;
  /// The same batches skipped (a non-finite loss or gradient): no step counted.
  bool step_skipped(TrainState& s, int64_t last) const;

  /// Every step taken (train.epochs, or train.max_steps).
  bool finished(const TrainState& s) const { return s.step >= total_steps_; }
  /// Validate after this step: every train.eval_every steps, else at each epoch's end; and after
  /// the last step.
  bool validate_now(const TrainState& s, bool epoch_ended) const;
  /// Save a step checkpoint besides the validations': every train.save_every steps, unless this
  /// step's is written already (`saved_step`).
  bool save_now(const TrainState& s, int64_t saved_step) const;
  /// Early stopping: train.patience validations in a row without a better train.metric.
  bool out_of_patience(const TrainState& s) const { return train_.patience > 0 && s.stale >= train_.patience; }

 private:
  bool move_past(TrainState& s, int64_t last) const;

  TrainConfig train_;
  int64_t batches_per_epoch_, total_steps_;
};

}  // namespace attn
