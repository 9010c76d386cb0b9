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

TEST_CASE("a run directory is owned by one process: a second train or --resume is refused naming it, kill -9 frees it",
          "[crash][lock]") {
  Sandbox s;
  auto first = spawn(s, "train " + s.config + " --out owned" + kLong, "owned");
  REQUIRE(wait_for_checkpoint(s.dir / "owned" / "checkpoints"));
  const std::string holder = "pid " + std::to_string(first.pid);
  for (const char* how : {" --resume", " --force"}) {
    auto second = s.attn("train " + s.config + " --out owned" + kLong + how);
    INFO(how << ": " << second.err);
    CHECK(second.rc == 2);
    CHECK_THAT(second.err, Catch::Contains("owned: the run directory is in use by another attn process (" + holder) &&
                               Catch::Contains("--out owned"));
  }
  CHECK(fs::exists(s.dir / "owned" / "run.lock"));
  CHECK_FALSE(fs::exists(s.path("owned") + ".bak"));  // --force moved nothing aside
  for (const auto& e : fs::directory_iterator(s.dir)) CHECK(e.path().filename().string().find(".bak-") == std::string::npos);
  ::kill(first.pid, SIGKILL);  // the kernel drops the lock with the process
  CHECK(first.wait_exit() == 128 + SIGKILL);
  auto resumed = s.attn("train " + s.config + " --out owned --resume" + kLong + " --set train.max_steps=400");
  INFO(resumed.err);
  CHECK(resumed.rc == 0);
  CHECK_FALSE(fs::exists(s.dir / "owned" / "run.lock"));  // removed as the run ends
}

TEST_CASE("two runs started together in one directory: one trains, the other is refused", "[crash][lock]") {
  Sandbox s;
  auto a = spawn(s, "train " + s.config + " --out same", "a");
  auto b = spawn(s, "train " + s.config + " --out same", "b");
  const int ra = a.wait_exit(), rb = b.wait_exit();
  INFO(a.err() << "\n---\n" << b.err());
  CHECK(std::min(ra, rb) == 0);
  CHECK(std::max(ra, rb) == 2);
  const auto refused = ra == 2 ? a.err() : b.err();
  CHECK_THAT(refused, Catch::Contains("in use by another attn process") || Catch::Contains("the run directory exists"));
  // The log is one run's: one start line.
  const auto log = slurp(s.dir / "same" / "train.log");
  size_t starts = 0;
  for (size_t at = 0; (at = log.find("| config hash ", at)) != std::string::npos; ++at) ++starts;
  CHECK(starts == 1);
}

TEST_CASE("the best model survives a failing write at any checkpoint: resumed, best.pt is the uninterrupted run's",
          "[crash][write]") {
  Sandbox s;
  const std::string at_validations = " --set train.save_every=0 --set train.eval_every=19";
  REQUIRE(s.attn("train " + s.config + " --out whole" + at_validations).rc == 0);
  const auto whole_best = CheckpointReader(s.path("whole/checkpoints/best.pt")).header().state.step;
  for (int k = 1; k <= 6; ++k) {
    const std::string out = "fail" + std::to_string(k);
    const std::string env = "ATTN_FAIL_CHECKPOINT_WRITE=" + std::to_string(k);
    auto failed = spawn(s, "train " + s.config + " --out " + out + at_validations, out, env.c_str());
    const int rc = failed.wait_exit();
    const auto err = failed.err();
    INFO("write " << k << " fails: " << err);
    CHECK(rc == 1);
    // The checkpoint the message calls intact is the newest on disk.
    const auto on_disk = list_step_checkpoints(s.path(out + "/checkpoints"));
    if (on_disk.empty()) CHECK_THAT(err, Catch::Contains("No checkpoint was written before this one"));
    else
      CHECK_THAT(err, Catch::Contains("The last checkpoint, " + out + "/checkpoints/" +
                                      fs::path(on_disk.front()).filename().string() + ", is intact"));
    auto resumed = s.attn("train " + s.config + " --out " + out + " --resume" + at_validations);
    INFO(resumed.err);
    REQUIRE(resumed.rc == 0);
    CHECK(CheckpointReader(s.path(out + "/checkpoints/best.pt")).header().state.step == whole_best);
    check_same_weights(s.path("whole/checkpoints/best.pt"), s.path(out + "/checkpoints/best.pt"));
  }
}

TEST_CASE("a best.pt removed or stale is restored from its step's file on --resume, or chosen anew",
          "[crash][resume]") {
  Sandbox s;
  const std::string args = " --set train.save_every=4 --set train.eval_every=19 --set train.keep_last=100";
  REQUIRE(s.attn("train " + s.config + " --out whole" + args).rc == 0);
  auto stopped = s.attn("train " + s.config + " --out gone" + args + " --set train.max_steps=60");
  REQUIRE(stopped.rc == 0);
  fs::remove(s.dir / "gone" / "checkpoints" / "best.pt");
  auto resumed = s.attn("train " + s.config + " --out gone --resume" + args + " --set train.max_steps=114");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("best.pt did not hold step") && Catch::Contains("restored it from"));
  check_same_weights(s.path("whole/checkpoints/best.pt"), s.path("gone/checkpoints/best.pt"));
}

TEST_CASE("the printed resume command continues the run with its own overrides", "[crash][resume]") {
  Sandbox s;
  const std::string args = " --set train.epochs=100 --set train.max_steps=1500 --set train.save_every=10";
  auto child = spawn(s, "train " + s.config + " --out r" + args, "r");
  REQUIRE(wait_for_checkpoint(s.dir / "r" / "checkpoints"));
  ::kill(child.pid, SIGINT);
  REQUIRE(child.wait_exit() == 130);
  const auto err = child.err();
  INFO(err);
  const auto at = err.find("Continue with: ");
  REQUIRE(at != std::string::npos);
  const auto command = err.substr(at + 15, err.find('\n', at) - at - 15);
  CHECK(command == "attn train --out r --resume");
  CHECK(json::parse(slurp(s.dir / "r" / "run.json"))["overrides"].size() == 3);
  // As printed, and with the config file again: both end at train.max_steps 1500, not the file's 114.
  auto as_printed = s.attn(command.substr(5));
  INFO(as_printed.err);
  REQUIRE(as_printed.rc == 0);
  CHECK(CheckpointReader(list_step_checkpoints(s.path("r/checkpoints")).front()).header().state.step == 1500);
  fs::remove_all(s.dir / "r" / "checkpoints");
  fs::create_directories(s.dir / "r" / "checkpoints");
  auto with_file = s.attn("train " + s.config + " --out r --resume");
  INFO(with_file.err);
  REQUIRE(with_file.rc == 0);
  CHECK(CheckpointReader(list_step_checkpoints(s.path("r/checkpoints")).front()).header().state.step == 1500);
}

TEST_CASE("resume refuses a directory that is not a run, and a hand-edited config.json is kept, not overwritten",
          "[crash][resume]") {
  Sandbox s;
  fs::create_directories(s.dir / "mine");
  std::ofstream(s.dir / "mine" / "config.json") << "{\"my\": \"own file\"}\n";
  std::ofstream(s.dir / "mine" / "notes.txt") << "keep me\n";
  auto r = s.attn("train " + s.config + " --out mine --resume");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("mine: not an attn run directory"));
  CHECK(slurp(s.dir / "mine" / "config.json") == "{\"my\": \"own file\"}\n");
  CHECK_FALSE(fs::exists(s.dir / "mine" / "train.log"));

  // A run killed in its first moment leaves only the lock file it took first: --resume starts it.
  fs::create_directories(s.dir / "early");
  std::ofstream(s.dir / "early" / "run.lock") << "pid 1 host h started 0 command attn train\n";
  auto early = s.attn("train " + s.config + " --out early --resume --set train.max_steps=5");
  INFO(early.err);
  CHECK(early.rc == 0);
  CHECK(fs::exists(s.dir / "early" / "train.log"));

  REQUIRE(s.attn("train " + s.config + " --out run --set train.max_steps=40").rc == 0);
  const auto config = s.dir / "run" / "config.json";
  auto text = slurp(config);
  text.replace(text.find("\"epochs\": 3"), 11, "\"epochs\": 9");
  std::ofstream(config, std::ios::trunc) << text;
  auto resumed = s.attn("train --out run --resume --set train.max_steps=60");
  INFO(resumed.err);
  REQUIRE(resumed.rc == 0);
  CHECK_THAT(resumed.err, Catch::Contains("was edited since attn wrote it") && Catch::Contains("config.json.edited-"));
  bool kept = false;
  for (const auto& e : fs::directory_iterator(s.dir / "run"))
    kept = kept || (e.path().filename().string().rfind("config.json.edited-", 0) == 0 && slurp(e.path()) == text);
  CHECK(kept);
  auto again = s.attn("train --out run --resume --set train.max_steps=70");  // attn's own rewrite is no edit
  CHECK(again.rc == 0);
  CHECK_THAT(again.err, !Catch::Contains("was edited"));
}

TEST_CASE("SIGINT during the final test evaluation stops at once with 130", "[crash][signals]") {
  Sandbox s;
  // A few steps, then a test split that takes seconds to evaluate.
  auto child = spawn(s, "train " + s.config + " --out t --set train.max_steps=2 --set data.test_size=400000", "t");
  bool evaluating = false;
  for (int i = 0; i < 12000 && !evaluating; ++i) {  // up to 120 s: the final validation's line is logged
    evaluating = slurp(s.dir / "t" / "train.log").find("[valid] step 2 ") != std::string::npos;
    if (!evaluating) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(evaluating);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto sent = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGINT);
  CHECK(child.wait_exit() == 130);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  CHECK(waited < 2.0);  // not the whole evaluation
  const auto err = child.err();
  INFO(err);
  CHECK_THAT(err, Catch::Contains("during the test evaluation") || Catch::Contains("stopped by SIGINT at step 2"));
  CHECK(fs::exists(s.dir / "t" / "checkpoints" / "best.pt"));
}

}  // namespace test_crash_safety
