#include "attn/train/schedule.h"

#include <algorithm>

namespace attn {

Schedule::Schedule(const TrainConfig& train, int64_t batches_per_epoch)
    : train_(train), batches_per_epoch_(batches_per_epoch) {
  const int64_t steps_per_epoch = (batches_per_epoch + train.grad_accum - 1) / train.grad_accum;
  const int64_t total = train.epochs * steps_per_epoch;
  total_steps_ = train.max_steps > 0 ? std::min(total, train.max_steps) : total;
}

bool Schedule::leave_finished_epoch(TrainState& s) const {
  if (s.batch < batches_per_epoch_) return false;
  s.batch = 0, ++s.epoch;
  return true;
}

int64_t Schedule::step_end(const TrainState& s) const {
  return std::min(batches_per_epoch_, s.batch + train_.grad_accum);
}

bool Schedule::move_past(TrainState& s, int64_t last) const {
  s.batch = last;
  return leave_finished_epoch(s);
}

bool Schedule::step_taken(TrainState& s, int64_t last) const {
  ++s.step;
  return move_past(s, last);
}

bool Schedule::step_skipped(TrainState& s, int64_t last) const {
  ++s.skipped;
  return move_past(s, last);
}

bool Schedule::validate_now(const TrainState& s, bool epoch_ended) const {
  if (finished(s)) return true;
  return train_.eval_every > 0 ? s.step % train_.eval_every == 0 : epoch_ended;
}

bool Schedule::save_now(const TrainState& s, int64_t saved_step) const {
  return train_.save_every > 0 && s.step % train_.save_every == 0 && saved_step != s.step;
}

}  // namespace attn
