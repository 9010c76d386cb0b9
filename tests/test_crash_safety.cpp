// Nothing lost: kill -9 at random moments and resume, SIGINT / SIGTERM, a failing checkpoint
// write, and a non-finite loss, each through the real binary and compared with an uninterrupted
// run, to the bit.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_crash_safety {

using namespace attn;
using namespace attn::test;

namespace {

// `attn ARGS` started in the sandbox without waiting; stdout / stderr to files named by `tag`.
struct Child {
  pid_t pid = -1;
  std::string err_path;
  int wait_exit() {  // the exit code, or 128 + the signal that ended it
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string err() const { return slurp(err_path); }
};

Child spawn(const Sandbox& s, const std::string& args, const std::string& tag, const char* env = nullptr) {
  Child c;
  c.err_path = s.path(tag + ".err");
  const std::string cmd = "cd '" + s.dir.string() + "' && exec '" + ATTN_BINARY + "' " + args + " >'" +
                          s.path(tag + ".out") + "' 2>'" + c.err_path + "'";
  c.pid = ::fork();
  if (c.pid == 0) {
    if (env) ::putenv(const_cast<char*>(env));
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return c;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

bool is_temporary(const fs::path& p) { return p.filename().string().find(".tmp.") != std::string::npos; }

// Waits (up to 60 s) until `dir` holds a finished step checkpoint.
bool wait_for_checkpoint(const fs::path& dir) {
  for (int i = 0; i < 6000; ++i) {
    for (const auto& p : files_in(dir))
      if (!is_temporary(p) && p.filename().string().rfind("step_", 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Every finished file under checkpoints/ opens and its weights load.
void check_all_load(const fs::path& dir) {
  for (const auto& p : files_in(dir)) {
    if (is_temporary(p)) continue;
    INFO(p.string());
    CHECK_NOTHROW(weights(p.string()));
  }
}

// Checkpoints every 4 steps; 114 steps in all (38 per epoch).
const std::string kFrequent = " --set train.save_every=4 --set train.eval_every=19";
// 3,800 steps (~5 s), a checkpoint every 10: a run long enough to be killed several times.
const std::string kLong = " --set train.epochs=100 --set train.save_every=10 --set train.eval_every=190";

// The step in "[run] stopped by SIG... at step N; ..." (-1 when the line is not there).
long stopped_at(const std::string& err) {
  const auto at = err.find(" at step ", err.find("stopped by SIG"));
  return at == std::string::npos ? -1 : std::stol(err.substr(at + 9));
}

// "step_00000012.pt": the name of step N's checkpoint.
std::string step_file(long step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08ld.pt", step);
  return name;
}

}  // namespace

TEST_CASE("kill -9 at random moments, resumed each time, ends bit-identical to an uninterrupted run",
          "[crash][resume]") {
  Sandbox s;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(s.attn("train " + s.config + " --out whole" + kLong).rc == 0);
  const auto whole_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::mt19937 rng(Catch::rngSeed());
  // 2.5-14% of a whole run's time after each start, start-up included (slower builds, e.g. under
  // sanitizers, scale with it): six such rounds cannot finish the run.
  std::uniform_int_distribution<long> delay_ms(whole_ms / 40, whole_ms / 7);
  const fs::path ckpt = s.dir / "killed" / "checkpoints";
  int kills = 0, during_write = 0;
  for (int round = 0; round < 7; ++round) {
    // Always --resume: before the first checkpoint it starts the run again in the same directory.
    auto child = spawn(s, "train " + s.config + " --out killed" + kLong + (round > 0 ? " --resume" : ""),
                       "killed" + std::to_string(round));
    if (round == 6) {
      // Once, the moment a checkpoint is being written: a temporary file exists.
      bool seen = false;
      for (int i = 0; i < 200000 && !seen; ++i) {
        for (const auto& p : files_in(ckpt)) seen = seen || is_temporary(p);
        if (!seen) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
      during_write += seen;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    }
    ::kill(child.pid, SIGKILL);
    const int rc = child.wait_exit();
    kills += rc == 128 + SIGKILL;
    check_all_load(ckpt);
  }
  auto last = s.attn("train " + s.config + " --out killed --resume" + kLong);
  INFO(last.err);
  REQUIRE(last.rc == 0);
  check_all_load(ckpt);
  for (const auto& p : files_in(ckpt)) CHECK_FALSE(is_temporary(p));
  const auto a = list_step_checkpoints(s.path("whole/checkpoints")).front();
  const auto b = list_step_checkpoints(ckpt.string()).front();
  CHECK(fs::path(a).filename() == fs::path(b).filename());
  check_same_weights(a, b);
  check_same_weights(s.path("whole/checkpoints/best.pt"), s.path("killed/checkpoints/best.pt"));
  // Every round was a kill (none ended on its own), and the last one landed while a checkpoint
  // was being written (a temporary file existed): the case the atomic write is for.
  CHECK(kills == 7);
  CHECK(during_write == 1);
}

TEST_CASE("SIGINT finishes the step, writes a checkpoint, exits 130 and the resumed run is bit-identical",
          "[crash][signals]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out whole").rc == 0);
  auto child = spawn(s, "train " + s.config + " --out stopped", "stopped");
  REQUIRE(wait_for_checkpoint(s.dir / "stopped" / "checkpoints"));  // in the training loop
  ::kill(child.pid, SIGINT);
  CHECK(child.wait_exit() == 130);
  const auto err = child.err();
  INFO(err);
  CHECK_THAT(err, Catch::Contains("stopped by SIGINT at step") && Catch::Contains("--out stopped --resume"));
  check_all_load(s.dir / "stopped" / "checkpoints");
  // The checkpoint named is of the step the run stopped at (not an older one the run had written).
  const auto stop_step = stopped_at(err);
  REQUIRE(stop_step > 0);
  const auto newest = list_step_checkpoints(s.path("stopped/checkpoints")).front();
  CHECK(fs::path(newest).filename() == step_file(stop_step));
  CHECK(CheckpointReader(newest).header().state.step == stop_step);
  CHECK_THAT(err, Catch::Contains("; checkpoint ") && Catch::Contains(step_file(stop_step)));
  auto resumed = s.attn("train " + s.config + " --out stopped --resume");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  check_same_weights(list_step_checkpoints(s.path("whole/checkpoints")).front(),
                     list_step_checkpoints(s.path("stopped/checkpoints")).front());
}

TEST_CASE("SIGTERM exits 143 after a checkpoint, and a second SIGINT stops at once without damage",
          "[crash][signals]") {
  Sandbox s;
  auto term = spawn(s, "train " + s.config + " --out term", "term");
  REQUIRE(wait_for_checkpoint(s.dir / "term" / "checkpoints"));
  ::kill(term.pid, SIGTERM);
  CHECK(term.wait_exit() == 143);
  CHECK_THAT(term.err(), Catch::Contains("stopped by SIGTERM"));
  check_all_load(s.dir / "term" / "checkpoints");

  auto twice = spawn(s, "train " + s.config + " --out twice", "twice");
  REQUIRE(wait_for_checkpoint(s.dir / "twice" / "checkpoints"));
  ::kill(twice.pid, SIGINT);
  ::kill(twice.pid, SIGINT);
  CHECK(twice.wait_exit() == 130);
  check_all_load(s.dir / "twice" / "checkpoints");
  CHECK(s.attn("train " + s.config + " --out twice --resume").rc == 0);
}

TEST_CASE("a failing checkpoint write stops the run with the previous checkpoint intact and resumable",
          "[crash][write]") {
  Sandbox s;
  REQUIRE(s.attn("train " + s.config + " --out whole" + kFrequent).rc == 0);
  // The third .pt write fails half-way, as on a full disk.
  auto failed = spawn(s, "train " + s.config + " --out full" + kFrequent, "full", "ATTN_FAIL_CHECKPOINT_WRITE=3");
  CHECK(failed.wait_exit() == 1);
  const auto err = failed.err();
  INFO(err);
  CHECK_THAT(err, Catch::Contains("cannot write") && Catch::Contains("is intact") &&
                      Catch::Contains("stopping at step 12"));
  const fs::path ckpt = s.dir / "full" / "checkpoints";
  for (const auto& p : files_in(ckpt)) CHECK_FALSE(is_temporary(p));  // the half-written file is gone
  check_all_load(ckpt);
  CHECK(fs::path(list_step_checkpoints(ckpt.string()).front()).filename() == "step_00000008.pt");
  auto resumed = s.attn("train " + s.config + " --out full --resume" + kFrequent);
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("at step 8"));
  check_same_weights(list_step_checkpoints(s.path("whole/checkpoints")).front(),
                     list_step_checkpoints(ckpt.string()).front());
}

TEST_CASE("a non-finite loss stops the run naming the step, or is skipped and counted", "[crash][nonfinite]") {
  Sandbox s;
  // A checkpoint after every step; the first update throws the weights to ~1e30, a later step overflows.
  const std::string explode =
      " --set train.optimizer=sgd --set train.momentum=0 --set train.lr=1e30 --set train.save_every=1";
  auto stopped = s.attn("train " + s.config + " --out stop" + explode);
  INFO(stopped.err);
  CHECK(stopped.rc == 1);
  CHECK_THAT(stopped.err, Catch::Contains("is not finite; stopping before the update") &&
                              Catch::Contains("train.nonfinite=skip"));
  // "[train] step K (epoch E, batch B): the loss (nan) | the gradient of NAME is not finite"
  const auto at = stopped.err.find("[train] step ");
  REQUIRE(at != std::string::npos);
  const long step = std::stol(stopped.err.substr(at + 13));
  REQUIRE(step > 1);
  const auto what = stopped.err.substr(stopped.err.find("): ", at) + 3);
  const bool names_loss = what.rfind("the loss (", 0) == 0;
  const bool names_gradient = what.rfind("the gradient of ", 0) == 0;
  CHECK((names_loss || names_gradient));
  if (names_gradient) {  // a parameter of the model, by its name
    const auto name = what.substr(16, what.find(' ', 16) - 16);
    CHECK(weights(list_step_checkpoints(s.path("stop/checkpoints")).front()).count(name) == 1);
  }
  // The last good checkpoint is the step before, named in the message, intact, and nothing later.
  const auto newest = list_step_checkpoints(s.path("stop/checkpoints")).front();
  CHECK(fs::path(newest).filename() == step_file(step - 1));
  CHECK_THAT(stopped.err, Catch::Contains("The last good checkpoint is ") && Catch::Contains(step_file(step - 1)));
  CHECK_NOTHROW(weights(newest));

  auto skipped = s.attn("train " + s.config + " --out skip" + explode + " --set train.nonfinite=skip");
  INFO(skipped.err);
  CHECK(skipped.rc == 0);
  // Each skip is logged with its running count, and the summary gives the total.
  long lines = 0, last_count = 0;
  for (auto p = skipped.err.find("step skipped ("); p != std::string::npos;
       p = skipped.err.find("step skipped (", p + 1)) {
    ++lines;
    last_count = std::stol(skipped.err.substr(p + 14));
    CHECK(last_count == lines);
  }
  CHECK(lines >= 1);
  CHECK_THAT(skipped.err, Catch::Contains("[train] " + std::to_string(lines) +
                                          " step(s) skipped for a non-finite loss or gradient"));
}

TEST_CASE("resuming a run stopped before its first checkpoint starts it again in its directory",
          "[crash][resume]") {
  Sandbox s;
  // What a kill during data loading leaves: the directory, its config.json, no checkpoint.
  fs::create_directories(s.dir / "early" / "checkpoints");
  fs::copy_file(s.config, s.dir / "early" / "config.json");
  auto r = s.attn("train --out early --resume");
  INFO(r.err);
  CHECK(r.rc == 0);
  CHECK_THAT(r.err, Catch::Contains("has no checkpoint yet; starting the run from step 0"));
  CHECK_FALSE(list_step_checkpoints(s.path("early/checkpoints")).empty());
  auto none = s.attn("train --out nowhere --resume");
  CHECK(none.rc == 2);
  CHECK_THAT(none.err, Catch::Contains("nothing to resume"));
}

}  // namespace test_crash_safety
