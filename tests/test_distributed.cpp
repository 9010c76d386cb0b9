// Data-parallel training through the real binary, with 2 local processes on 127.0.0.1: the same
// parameters as one process on the same global batch, resume across world sizes, a rank that
// dies or hangs, and rendezvous errors. Both ways of starting a job are used: attn launch, and
// torchrun's environment variables set by hand.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "attn/train/distributed.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_distributed {

using namespace attn;
using namespace attn::test;
using Clock = std::chrono::steady_clock;

namespace {

// A TCP socket bound to a port the kernel picks on `address`: {descriptor, port}.
std::pair<int, int> bound_socket(in_addr_t address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(address);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  return {fd, ntohs(addr.sin_port)};
}

// A TCP port free on 127.0.0.1 now.
int free_port() {
  const auto [fd, port] = bound_socket(INADDR_LOOPBACK);
  ::close(fd);
  return port;
}

// "RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=P ATTN_DIST_TIMEOUT=T"
std::string rank_env(int rank, int world, int port, int timeout_s) {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(rank) + " LOCAL_WORLD_SIZE=" + std::to_string(world) +
         " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
         " ATTN_DIST_TIMEOUT=" + std::to_string(timeout_s);
}

// `ENV attn ARGS` started in the sandbox without waiting; output to files named by `tag`.
struct Proc {
  pid_t pid = -1;
  std::string err_path, out_path;
  int status = -1;
  // The exit code (128 + signal when killed), or -1 if it still runs after `limit`.
  int wait(std::chrono::seconds limit = std::chrono::seconds(120)) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      int st = 0;
      if (::waitpid(pid, &st, WNOHANG) == pid) return status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string err() const { return slurp(err_path); }
  std::string out() const { return slurp(out_path); }
};

Proc start(const Sandbox& s, const std::string& env, const std::string& args, const std::string& tag) {
  Proc p;
  p.err_path = s.path(tag + ".err"), p.out_path = s.path(tag + ".out");
  const std::string cmd = "cd '" + s.dir.string() + "' && " + env + " exec '" + ATTN_BINARY + "' " + args +
                          " >'" + p.out_path + "' 2>'" + p.err_path + "'";
  p.pid = ::fork();
  if (p.pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return p;
}

// The config of these tests: no dropout (ranks draw their own masks), a global batch of 25 that
// two ranks split 12 + 13, and 1210 sets so that each epoch ends with a batch of 10.
std::string write_config(const Sandbox& s, const std::string& train_extra = "") {
  const auto path = s.path("dist.json");
  std::ofstream(path) << R"({
    "data": {"kind": "majority", "set_size": 8, "symbols": 6, "train_size": 1210, "valid_size": 200,
             "test_size": 200},
    "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 1, "pooling": "mean"},
    "train": {"epochs": 2, "batch_size": 25, "log_every": 10, "lr": 0.003)" +
                             train_extra + R"(},
    "threads": 1, "seed": 5})";
  return path;
}

std::string last_checkpoint(const Sandbox& s, const std::string& run) {
  const auto all = list_step_checkpoints(s.path(run + "/checkpoints"));
  REQUIRE(!all.empty());
  return all.front();
}

// Largest |a - b| over all parameters of two checkpoints (which must have the same step).
double max_difference(const std::string& a_path, const std::string& b_path) {
  CHECK(CheckpointReader(a_path).header().state.step == CheckpointReader(b_path).header().state.step);
  auto a = weights(a_path), b = weights(b_path);
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (const auto& [name, t] : a) worst = std::max(worst, (t - b.at(name)).abs().max().item<double>());
  return worst;
}

}  // namespace

TEST_CASE("shard_of splits a global batch into contiguous slices that differ by at most one", "[dist]") {
  std::vector<size_t> batch(25);
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = 100 + i;
  for (int world : {1, 2, 3, 7, 25, 30}) {
    std::vector<size_t> joined;
    size_t smallest = batch.size(), largest = 0;
    for (int r = 0; r < world; ++r) {
      const auto part = shard_of(batch, r, world);
      joined.insert(joined.end(), part.begin(), part.end());
      smallest = std::min(smallest, part.size()), largest = std::max(largest, part.size());
    }
    INFO("world " << world);
    CHECK(joined == batch);
    CHECK(largest - smallest <= 1);
  }
}

TEST_CASE("read_dist_env: no variables is one process, and bad values name the variable", "[dist]") {
  for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
    ::unsetenv(v);
  CHECK_FALSE(read_dist_env().distributed());
  ::setenv("WORLD_SIZE", "2", 1), ::setenv("RANK", "1", 1);
  CHECK_THROWS_WITH(read_dist_env(), Catch::Contains("needs MASTER_ADDR and MASTER_PORT"));
  ::setenv("MASTER_ADDR", "10.0.0.1", 1), ::setenv("MASTER_PORT", "29500", 1);
  const auto e = read_dist_env();
  CHECK((e.rank == 1 && e.world_size == 2 && e.local_rank == 1 && e.master_addr == "10.0.0.1" && e.master_port == 29500));
  ::setenv("RANK", "2", 1);
  CHECK_THROWS_WITH(read_dist_env(), Catch::Contains("RANK=2: must be below WORLD_SIZE=2"));
  ::setenv("RANK", "one", 1);
  CHECK_THROWS_WITH(read_dist_env(), Catch::Contains("RANK=one"));
  ::setenv("RANK", "0", 1), ::setenv("MASTER_PORT", "70000", 1);
  CHECK_THROWS_WITH(read_dist_env(), Catch::Contains("MASTER_PORT=70000"));
  for (const char* v : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
}

TEST_CASE("2 processes on a global batch of 2b end with the parameters of 1 process on batch 2b "
          "(uneven shards, gradient accumulation and clipping on the global gradient)", "[dist]") {
  Sandbox s;
  const auto cfg = write_config(s, R"(, "grad_accum": 2, "clip_grad_norm": 0.5)");
  const auto one = s.attn("train dist.json --out one");
  REQUIRE(one.rc == 0);
  const auto two = s.attn("launch --nproc 2 --timeout 60 -- train dist.json --out two");
  INFO(two.err);
  REQUIRE(two.rc == 0);
  // One report for the job (rank 0's), and rank 0's log says how the work was split.
  CHECK(std::count(two.out.begin(), two.out.end(), '\n') == 1);
  const auto log = slurp(s.path("two/train.log"));
  CHECK(log.find("[dist] 2 processes (c10d, Gloo)") != std::string::npos);
  CHECK(log.find("12-13 examples per rank") != std::string::npos);
  const double diff = max_difference(last_checkpoint(s, "one"), last_checkpoint(s, "two"));
  INFO("largest parameter difference " << diff);
  CHECK(diff <= 1e-6);
  // The same validation and test numbers, as printed.
  CHECK(json::parse(one.out)["test_accuracy"] == json::parse(two.out)["test_accuracy"]);
}

TEST_CASE("a checkpoint of 2 processes resumes with 1, and one of 1 with 2, continuing the same run", "[dist]") {
  Sandbox s;
  write_config(s, R"(, "max_steps": 20, "save_every": 20)");
  REQUIRE(s.attn("train dist.json --out ref --set train.max_steps=60").rc == 0);
  const auto reference = last_checkpoint(s, "ref");

  // 2 -> 1: the first part through torchrun's variables set by hand.
  const int port = free_port();
  auto r0 = start(s, rank_env(0, 2, port, 60), "train dist.json --out a", "a0");
  auto r1 = start(s, rank_env(1, 2, port, 60), "train dist.json --out a", "a1");
  REQUIRE(r0.wait() == 0);
  REQUIRE(r1.wait() == 0);
  CHECK(r1.out().empty());  // only rank 0 reports
  CHECK(CheckpointReader(last_checkpoint(s, "a")).header().state.world_size == 2);
  const auto a = s.attn("train --out a --resume --set train.max_steps=60");
  INFO(a.err);
  REQUIRE(a.rc == 0);
  CHECK(a.err.find("the checkpoint was written by 2 process(es); continuing with 1") != std::string::npos);
  CHECK(a.err.find("resuming from") != std::string::npos);
  CHECK(max_difference(reference, last_checkpoint(s, "a")) <= 1e-6);

  // 1 -> 2, through attn launch.
  REQUIRE(s.attn("train dist.json --out b").rc == 0);
  const auto b = s.attn("launch --nproc 2 --timeout 60 -- train --out b --resume --set train.max_steps=60");
  INFO(b.err);
  REQUIRE(b.rc == 0);
  CHECK(b.err.find("the checkpoint was written by 1 process(es); continuing with 2") != std::string::npos);
  CHECK(max_difference(reference, last_checkpoint(s, "b")) <= 1e-6);
}

namespace {

// Every file under checkpoints/ opens (checksum and all) and the run resumes on 1 process.
void check_intact_and_resumable(const Sandbox& s, const std::string& run) {
  const auto found = list_step_checkpoints(s.path(run + "/checkpoints"));
  REQUIRE(!found.empty());
  for (const auto& p : fs::directory_iterator(s.path(run + "/checkpoints"))) {
    INFO(p.path());
    CHECK(p.path().filename().string().find(".tmp.") == std::string::npos);
    CHECK_NOTHROW(CheckpointReader(p.path().string()));
  }
  const auto step = CheckpointReader(found.front()).header().state.step;
  const auto r = s.attn("train --out " + run + " --resume --set train.max_steps=" + std::to_string(step + 5));
  INFO(r.err);
  CHECK(r.rc == 0);
}

// Waits up to 60 s for the first step checkpoint of `run`.
bool wait_for_checkpoint(const Sandbox& s, const std::string& run) {
  for (int i = 0; i < 3000; ++i) {
    if (!list_step_checkpoints(s.path(run + "/checkpoints")).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Waits up to 60 s for `run`'s log to show training step 5.
bool wait_for_training(const Sandbox& s, const std::string& run) {
  for (int i = 0; i < 3000; ++i) {
    if (slurp(s.path(run + "/train.log")).find("[train] step 5/") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("a rank killed or hung makes the others exit non-zero within the timeout, and checkpoints stay intact",
          "[dist]") {
  Sandbox s;
  write_config(s, R"(, "epochs": 100000, "save_every": 10)");  // runs until stopped
  const int timeout_s = 5;

  // Ranks 0 and 1 started by hand with ATTN_DIST_TIMEOUT `timeout`; `signal` sent to rank 1 once a
  // checkpoint exists. Rank 0 must exit 1 within `limit` seconds of it, saying why; then rank 1 is
  // killed for good.
  auto rank1_gets = [&](int signal, int timeout, double limit) {
    const int port = free_port();
    auto r0 = start(s, rank_env(0, 2, port, timeout), "train dist.json --out run", "r0");
    auto r1 = start(s, rank_env(1, 2, port, timeout), "train dist.json --out run", "r1");
    REQUIRE(wait_for_checkpoint(s, "run"));
    ::kill(r1.pid, signal);
    const auto sent = Clock::now();
    const int rc = r0.wait(std::chrono::seconds(timeout + 30));
    const double took = std::chrono::duration<double>(Clock::now() - sent).count();
    ::kill(r1.pid, SIGKILL), ::kill(r1.pid, SIGCONT);
    r1.wait();
    INFO(r0.err() << "\nstopped after " << took << " s");
    CHECK(rc == 1);
    CHECK(took <= limit);
    CHECK(r0.err().find("rank 0 of 2: the ") != std::string::npos);
    CHECK(r0.err().find("Another rank stopped") != std::string::npos);
    check_intact_and_resumable(s, "run");
  };
  // "At once": a timeout of 60 s, so that a rank that waited it out could not pass the 10 s bound.
  SECTION("kill -9 of rank 1: rank 0 stops at once, long before the timeout") { rank1_gets(SIGKILL, 60, 10); }
  SECTION("rank 1 stopped (SIGSTOP): rank 0 gives up after ATTN_DIST_TIMEOUT") {
    rank1_gets(SIGSTOP, timeout_s, timeout_s + 10);
  }
  SECTION("attn launch stops the job when one of its ranks is killed") {
    auto launcher = start(s, "", "launch --nproc 2 --timeout " + std::to_string(timeout_s) +
                                     " -- train dist.json --out run", "launch");
    REQUIRE(wait_for_checkpoint(s, "run"));
    // The launcher's children, told apart by the RANK in their environment.
    std::ifstream children("/proc/" + std::to_string(launcher.pid) + "/task/" + std::to_string(launcher.pid) +
                           "/children");
    pid_t rank0 = 0, rank1 = 0;
    for (pid_t child; children >> child;) {
      const auto environ = slurp("/proc/" + std::to_string(child) + "/environ");
      if (environ.find(std::string("RANK=1") + '\0') != std::string::npos &&
          environ.find(std::string("\0RANK=1") + '\0') != std::string::npos)
        rank1 = child;
      else
        rank0 = child;
    }
    REQUIRE(rank0 > 0);
    REQUIRE(rank1 > 0);
    ::kill(rank1, SIGKILL);
    const int rc = launcher.wait(std::chrono::seconds(timeout_s + 30));
    INFO(launcher.err());
    CHECK(rc == 137);  // the first failure's code: 128 + SIGKILL
    CHECK(launcher.err().find("[launch] rank 1 was killed by signal 9") != std::string::npos);
    CHECK(::kill(rank0, 0) != 0);  // rank 0 is gone too
    check_intact_and_resumable(s, "run");
  }
}

TEST_CASE("rendezvous errors are one clear message and a non-zero exit", "[dist]") {
  Sandbox s;
  write_config(s);
  SECTION("RANK out of range, or no MASTER_ADDR: a launch error (exit 2)") {
    auto r = start(s, "RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500", "train dist.json --out x", "e");
    CHECK(r.wait() == 2);
    CHECK(r.err().find("RANK=2: must be below WORLD_SIZE=2") != std::string::npos);
    auto m = start(s, "RANK=0 WORLD_SIZE=2", "train dist.json --out x", "m");
    CHECK(m.wait() == 2);
    CHECK(m.err().find("needs MASTER_ADDR and MASTER_PORT") != std::string::npos);
  }
  SECTION("MASTER_PORT in use") {
    const auto [fd, port] = bound_socket(INADDR_ANY);
    REQUIRE(::listen(fd, 1) == 0);
    auto r = start(s, rank_env(0, 2, port, 3), "train dist.json --out x", "e");
    CHECK(r.wait(std::chrono::seconds(30)) == 1);
    ::close(fd);
    CHECK(r.err().find("is in use on this host") != std::string::npos);
  }
  SECTION("WORLD_SIZE=2 but only rank 0 started: gives up after the timeout") {
    const auto t0 = Clock::now();
    auto r = start(s, rank_env(0, 2, free_port(), 2), "train dist.json --out x", "e");
    CHECK(r.wait(std::chrono::seconds(60)) == 1);
    CHECK(std::chrono::duration<double>(Clock::now() - t0).count() < 30);
    CHECK(r.err().find("not every rank of WORLD_SIZE=2 announced itself within 2 s") != std::string::npos);
  }
  SECTION("rank 0 unreachable (nothing listens at MASTER_ADDR:MASTER_PORT)") {
    auto r = start(s, rank_env(1, 2, free_port(), 2), "train dist.json --out x", "e");
    CHECK(r.wait(std::chrono::seconds(60)) == 1);
    CHECK(r.err().find("could not reach rank 0 at 127.0.0.1:") != std::string::npos);
  }
  SECTION("ranks that disagree on WORLD_SIZE or on the config") {
    const int port = free_port();
    auto r0 = start(s, rank_env(0, 2, port, 10), "train dist.json --out x", "r0");
    auto r1 = start(s, rank_env(1, 2, port, 10), "train dist.json --out x --set train.lr=0.1", "r1");
    CHECK(r0.wait() == 1);
    CHECK(r1.wait() == 1);
    CHECK(r1.err().find("every rank needs the same WORLD_SIZE, config file and --set overrides") != std::string::npos);
    CHECK_FALSE(fs::exists(s.path("x")));  // nothing written
  }
  SECTION("a config error on rank 0 stops every rank") {
    std::ofstream(s.path("bad.json")) << R"({"train": {"lr_schedule": "cosine"}})";
    const int port = free_port();
    auto r0 = start(s, rank_env(0, 2, port, 10), "train bad.json --out x", "r0");
    auto r1 = start(s, rank_env(1, 2, port, 10), "train bad.json --out x", "r1");
    CHECK(r0.wait() == 2);
    CHECK(r0.err().find("train.lr_schedule: unknown key") != std::string::npos);
    CHECK(r1.wait() == 1);
    CHECK(r1.err().find("rank 0 failed while reading the config") != std::string::npos);
  }
}

TEST_CASE("SIGINT to attn launch reaches every rank once: rank 0 checkpoints, all exit 130, the run resumes",
          "[dist]") {
  Sandbox s;
  write_config(s, R"(, "epochs": 100000, "log_every": 5)");  // runs until stopped
  auto launcher = start(s, "", "launch --nproc 2 --timeout 30 -- train dist.json --out run", "launch");
  REQUIRE(wait_for_training(s, "run"));
  ::kill(launcher.pid, SIGINT);
  const int rc = launcher.wait(std::chrono::seconds(60));
  const auto err = launcher.err();
  INFO(err);
  CHECK(rc == 130);
  CHECK(err.find("[launch] Interrupt: passing it on to every rank") != std::string::npos);
  CHECK(err.find("stopped by SIGINT at step") != std::string::npos);
  CHECK(err.find("distributed error") == std::string::npos);  // both stopped at the same step
  check_intact_and_resumable(s, "run");
}

TEST_CASE("a SIGINT that reaches one rank stops every rank at the same step, each reporting SIGINT", "[dist]") {
  // What a terminal's Ctrl-C looks like when one rank's copy arrives a step later than another's.
  Sandbox s;
  write_config(s, R"(, "epochs": 100000, "log_every": 5)");  // runs until stopped
  const int port = free_port();
  auto r0 = start(s, rank_env(0, 2, port, 30), "train dist.json --out run", "r0");
  auto r1 = start(s, rank_env(1, 2, port, 30), "train dist.json --out run", "r1");
  REQUIRE(wait_for_training(s, "run"));
  ::kill(r1.pid, SIGINT);
  const int rc0 = r0.wait(std::chrono::seconds(60)), rc1 = r1.wait(std::chrono::seconds(60));
  INFO(r0.err());
  CHECK(rc0 == 130);  // as if it had got the SIGINT itself
  CHECK(rc1 == 130);
  CHECK(r0.err().find("stopped by SIGINT at step") != std::string::npos);
  check_intact_and_resumable(s, "run");
}

TEST_CASE("bench allreduce times the bucketed all-reduce under attn launch, and refuses to run alone", "[dist]") {
  Sandbox s;
  const auto r = s.attn("launch --nproc 2 -- bench allreduce --size-mb 30 --repeats 3 --json");
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);  // rank 0's line only
  CHECK(j["processes"] == 2);
  CHECK(j["buckets"] == 2);  // 30 MB in buckets of <= 25 MiB
  CHECK(j["ms"].get<double>() > 0);
  const auto alone = s.attn("bench allreduce");
  CHECK(alone.rc == 2);
  CHECK(alone.err.find("run it with several processes") != std::string::npos);
}

}  // namespace test_distributed
