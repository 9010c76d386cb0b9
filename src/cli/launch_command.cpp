// `attn launch`: starts the processes of a data-parallel job on this host, as torchrun does: each
// child is `attn ARGS...` with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set. SIGINT / SIGTERM are passed on to every child (which then checkpoint and stop);
// when one child fails, the others are stopped and the launcher exits with the failure's code.
//
// No LibTorch here: the launcher only forks, waits and forwards signals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/command_line.h"
#include "cli/commands.h"

namespace attn {

namespace {

volatile sig_atomic_t g_forward = 0;  // a signal to pass on to the children

void on_signal(int sig) { g_forward = sig; }

// A TCP port that is free on this host now (the kernel's pick for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("launch: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("launch: cannot find a free port: " + why);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// "exited with code 1", "was killed by signal 9"; and the code a shell would report.
std::pair<std::string, int> describe(int status) {
  if (WIFEXITED(status)) return {"exited with code " + std::to_string(WEXITSTATUS(status)), WEXITSTATUS(status)};
  if (WIFSIGNALED(status))
    return {"was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")",
            128 + WTERMSIG(status)};
  return {"stopped", 1};
}

}  // namespace

int run_launch(const LaunchRequest& req) {
  if (req.args.empty()) throw UsageError("launch: give the attn command to run after --, e.g. -- train CONFIG.json");
  if (req.node_rank >= req.nnodes)
    throw UsageError("launch: --node-rank " + std::to_string(req.node_rank) + " must be below --nnodes " +
                     std::to_string(req.nnodes));
  if (req.nnodes > 1 && req.master_port == 0)
    throw UsageError("launch: with --nnodes > 1 every node needs the same --master-port (and --master-addr of node 0)");
  const int port = req.master_port > 0 ? req.master_port : free_port();
  const int world = req.nnodes * req.nproc;

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::vector<pid_t> pids(static_cast<size_t>(req.nproc), -1);
  std::vector<bool> alive(pids.size(), false);
  for (int local = 0; local < req.nproc; ++local) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("launch: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      // The child: its own process group, so that a terminal's Ctrl-C reaches it once, through us.
      // If the launcher itself dies (kill -9), its ranks get SIGTERM: they checkpoint and stop.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      const int rank = req.node_rank * req.nproc + local;
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(req.nproc).c_str(), 1);
      ::setenv("GROUP_RANK", std::to_string(req.node_rank).c_str(), 1);
      ::setenv("MASTER_ADDR", req.master_addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      if (req.timeout > 0) ::setenv("ATTN_DIST_TIMEOUT", std::to_string(req.timeout).c_str(), 1);
      std::vector<char*> argv;
      std::string self = "attn";
      argv.push_back(self.data());
      std::vector<std::string> args = req.args;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "attn launch: cannot start rank %d: %s\n", rank, std::strerror(errno));
      ::_exit(127);
    }
    pids[static_cast<size_t>(local)] = pid;
    alive[static_cast<size_t>(local)] = true;
  }
  std::fprintf(stderr, "[launch] %d process(es) on this node (ranks %d-%d of %d) | rendezvous %s:%d\n", req.nproc,
               req.node_rank * req.nproc, req.node_rank * req.nproc + req.nproc - 1, world,
               req.master_addr.c_str(), port);

  using Clock = std::chrono::steady_clock;
  int exit_code = 0, forwarded = 0, running = req.nproc;
  bool stopping = false;
  Clock::time_point kill_at{};
  auto signal_all = [&](int sig) {
    for (size_t i = 0; i < pids.size(); ++i)
      if (alive[i]) ::kill(pids[i], sig);
  };
  while (running > 0) {
    if (g_forward && g_forward != forwarded) {
      forwarded = g_forward;
      std::fprintf(stderr, "[launch] %s: passing it on to every rank (they checkpoint and stop)\n",
                   strsignal(forwarded));
      signal_all(forwarded);
      if (!stopping) stopping = true, kill_at = Clock::now() + std::chrono::seconds(req.grace);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      size_t i = 0;
      while (i < pids.size() && pids[i] != pid) ++i;
      if (i == pids.size()) continue;
      alive[i] = false;
      --running;
      const auto [what, code] = describe(status);
      if (code != 0 && exit_code == 0) {
        exit_code = code;
        if (!forwarded || code != 128 + forwarded)
          std::fprintf(stderr, "[launch] rank %d %s; stopping the other ranks\n",
                       req.node_rank * req.nproc + static_cast<int>(i), what.c_str());
        if (!stopping) {
          signal_all(SIGTERM);
          stopping = true, kill_at = Clock::now() + std::chrono::seconds(req.grace);
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR && errno != ECHILD) break;
    if (stopping && Clock::now() > kill_at) {
      std::fprintf(stderr, "[launch] ranks still running %d s after being told to stop: killing them\n", req.grace);
      signal_all(SIGKILL);
      kill_at = Clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return exit_code;
}

void add_launch_command(CommandLine& cli) {
  auto req = std::make_shared<LaunchRequest>();
  auto* cmd = cli.app.add_subcommand(
      "launch", "Start the processes of a data-parallel run on this host, as torchrun does: "
                "attn launch --nproc 2 -- train CONFIG.json (each gets RANK, WORLD_SIZE, LOCAL_RANK, "
                "MASTER_ADDR, MASTER_PORT)");
  cmd->add_option("--nproc", req->nproc, "Processes on this host")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--nnodes", req->nnodes, "Hosts in the job (start attn launch on each)")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--node-rank", req->node_rank, "This host's index, 0 for the host of rank 0")
      ->capture_default_str()->check(kNonNegative);
  cmd->add_option("--master-addr", req->master_addr, "Address of the host of rank 0")->capture_default_str();
  cmd->add_option("--master-port", req->master_port, "Rendezvous port on that host (0: a free port; one host only)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--timeout", req->timeout,
                  "Seconds to wait for the rendezvous and for any other rank (sets ATTN_DIST_TIMEOUT; "
                  "0: attn's default, 300)")
      ->capture_default_str()->check(kNonNegative);
  cmd->add_option("--grace", req->grace,
                  "Seconds the ranks get to checkpoint and exit when the job stops, before SIGKILL")
      ->capture_default_str()->check(kPositive);
  cmd->add_option("command", req->args, "The attn command every process runs, after --")->required();
  cli.add(cmd, [req] { return run_launch(*req); });
}

}  // namespace attn
