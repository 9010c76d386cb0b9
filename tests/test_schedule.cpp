// The training position and the loop's decisions (attn/train/schedule.h), walked through whole
// runs the way Loop::run walks them, against the positions and decisions written out by hand.
#include "attn/train/schedule.h"

#include <catch2/catch.hpp>

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_schedule {

using namespace attn;

namespace {

struct Event {
  int64_t step, epoch, batch;
  bool validated, saved;
};

// Every step of a run from `s` as Loop::run takes them (none skipped): where it is after each
// step and whether it validates and saves there.
std::vector<Event> walk(const Schedule& schedule, TrainState s) {
  std::vector<Event> out;
  int64_t saved = -1;
  schedule.leave_finished_epoch(s);
  while (schedule.more_epochs(s))
    for (bool epoch_ended = false; !epoch_ended && !schedule.finished(s);) {
      epoch_ended = schedule.step_taken(s, schedule.step_end(s));
      const bool validated = schedule.validate_now(s, epoch_ended);
      if (validated) saved = s.step;  // a validation writes step_N.pt
      const bool save = schedule.save_now(s, saved);
      if (save) saved = s.step;
      out.push_back({s.step, s.epoch, s.batch, validated, save});
    }
  return out;
}

}  // namespace

TEST_CASE("schedule: steps of grad_accum batches, the last of an epoch shorter, and a validation at each epoch's end",
          "[schedule]") {
  TrainConfig t;
  t.epochs = 2, t.grad_accum = 3;
  const Schedule schedule(t, 10);  // 10 batches: steps of 3, 3, 3 and 1
  CHECK(schedule.total_steps() == 8);
  const auto events = walk(schedule, TrainState{});
  REQUIRE(events.size() == 8);
  const int64_t batches[] = {3, 6, 9, 0, 3, 6, 9, 0};
  for (size_t i = 0; i < events.size(); ++i) {
    INFO("step " << events[i].step);
    CHECK(events[i].step == int64_t(i) + 1);
    CHECK(events[i].batch == batches[i]);
    CHECK(events[i].epoch == (i < 3 ? 0 : i < 7 ? 1 : 2));
    CHECK(events[i].validated == (i == 3 || i == 7));
    CHECK_FALSE(events[i].saved);
  }
}

TEST_CASE("schedule: eval_every and save_every count steps, and max_steps ends the run and validates there",
          "[schedule]") {
  TrainConfig t;
  t.epochs = 5, t.eval_every = 4, t.save_every = 3, t.max_steps = 10;
  const Schedule schedule(t, 6);
  CHECK(schedule.total_steps() == 10);
  const auto events = walk(schedule, TrainState{});
  REQUIRE(events.size() == 10);
  for (const auto& e : events) {
    INFO("step " << e.step);
    CHECK(e.validated == (e.step % 4 == 0 || e.step == 10));  // not at epoch ends
    CHECK(e.saved == (e.step % 3 == 0 && !e.validated));       // a validation's checkpoint is that step's
  }
  TrainState at_end;
  at_end.step = 10;
  CHECK(schedule.finished(at_end));
  CHECK_FALSE(schedule.more_epochs(at_end));
}

TEST_CASE("schedule: a skipped step moves past its batches without counting, and a resume past the epoch's "
          "end goes on with the next epoch",
          "[schedule]") {
  TrainConfig t;
  t.epochs = 3;
  const Schedule schedule(t, 4);
  TrainState s;
  s.batch = 3;
  CHECK(schedule.step_skipped(s, schedule.step_end(s)));  // the epoch's last batch
  CHECK((s.step == 0 && s.skipped == 1 && s.epoch == 1 && s.batch == 0));
  CHECK_FALSE(schedule.step_skipped(s, schedule.step_end(s)));
  CHECK((s.skipped == 2 && s.epoch == 1 && s.batch == 1));

  TrainState resumed;  // written by a run with 9 batches an epoch, stopped at batch 6 of epoch 1
  resumed.epoch = 0, resumed.batch = 6, resumed.step = 6;
  CHECK(schedule.leave_finished_epoch(resumed));
  CHECK((resumed.epoch == 1 && resumed.batch == 0));
  CHECK(walk(schedule, resumed).size() == 6);  // the 12 steps of 3 epochs, 6 taken
  CHECK_FALSE(schedule.leave_finished_epoch(resumed));
}

TEST_CASE("schedule: early stopping after train.patience validations without improvement, never with 0",
          "[schedule]") {
  TrainConfig t;
  const TrainState stale = [] {
    TrainState s;
    s.stale = 3;
    return s;
  }();
  CHECK_FALSE(Schedule(t, 5).out_of_patience(stale));
  t.patience = 3;
  CHECK(Schedule(t, 5).out_of_patience(stale));
  t.patience = 4;
  CHECK_FALSE(Schedule(t, 5).out_of_patience(stale));
}

}  // namespace test_schedule
