#include "fork_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fork_protocol.h"

extern char** environ;

namespace attn::test {

namespace fp = fork_protocol;

namespace {

constexpr int kIdleMs = 20 * 60 * 1000;
constexpr int kStdio = 3;

struct Request {
  std::vector<int> fds;  // the client's stdin, stdout, stderr
  std::string kind, binary, cwd;
  std::vector<std::string> args, env;
};

bool read_list(int fd, std::vector<std::string>& out) {
  std::string count;
  if (!fp::read_string(fd, count)) return false;
  char* end = nullptr;
  const unsigned long n = std::strtoul(count.c_str(), &end, 10);
  if (count.empty() || *end != '\0' || n > 100000) return false;
  out.resize(n);
  for (auto& s : out)
    if (!fp::read_string(fd, s)) return false;
  return true;
}

bool read_request(int conn, Request& r) {
  if (!fp::receive_fds(conn, kStdio, r.fds) || !fp::read_string(conn, r.kind)) return false;
  if (r.kind == fp::kStop) return true;
  return r.kind == fp::kRun && fp::read_string(conn, r.binary) && fp::read_string(conn, r.cwd) &&
         read_list(conn, r.args) && read_list(conn, r.env);
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

void answer(int conn, int32_t kind, int32_t value) {
  const int32_t a[2] = {kind, value};
  fp::write_all(conn, a, sizeof a);
}

// The forked test process: the client's streams, directory and environment, and the signal
// dispositions of a process started afresh; then the test session.
[[noreturn]] void become_test(const Request& r, int conn, int (*run)(int, char**)) {
  ::setpgid(0, 0);  // its own group: the runner kills the test and whatever it started
  for (int i = 0; i < kStdio; ++i) ::dup2(r.fds[i], i);
  for (int fd : r.fds) ::close(fd);
  ::close(conn);
  for (int sig : {SIGCHLD, SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT}) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::chdir(r.cwd.c_str()) != 0) {
    std::fprintf(stderr, "attn_tests: cannot enter %s\n", r.cwd.c_str());
    std::_Exit(126);
  }
  // The process's own BLAS choice (main() may have re-executed the server onto another kernel)
  // stays true of this process whatever the client's environment says.
  std::vector<std::string> own;
  for (const char* name : {"OPENBLAS_CORETYPE", "ATTN_BLAS_PICKED"})
    if (const char* v = std::getenv(name)) own.push_back(std::string(name) + "=" + v);
  ::clearenv();
  for (const auto& e : r.env) ::putenv(::strdup(e.c_str()));
  for (const auto& e : own) ::putenv(::strdup(e.c_str()));
  std::vector<char*> argv;
  for (const auto& a : r.args) argv.push_back(::strdup(a.c_str()));
  argv.push_back(nullptr);
  const int rc = run(static_cast<int>(r.args.size()), argv.data());
  std::fflush(nullptr);
  std::_Exit(rc);
}

// Between the client and its test: forks the test, answers how it ended, or kills it (its whole
// process group) when the client goes away first (ctest's timeout).
[[noreturn]] void run_for_client(const Request& r, int conn, int (*run)(int, char**)) {
  ::signal(SIGCHLD, SIG_DFL);  // the server ignores it, so that its runners need no reaping
  const pid_t test = ::fork();
  if (test < 0) {
    answer(conn, fp::Refused, 0);  // the client runs the binary itself
    std::_Exit(0);
  }
  if (test == 0) become_test(r, conn, run);
  ::setpgid(test, test);  // (also in the child: whichever runs first)
  for (int fd : r.fds) ::close(fd);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, test, 0));
  int status = 0;
  for (;;) {
    pollfd p[2] = {{conn, POLLIN, 0}, {pidfd, POLLIN, 0}};
    // Without pidfd_open (Linux < 5.3): look every 20 ms.
    const int r = ::poll(p, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 20);
    if (r < 0 && errno != EINTR) break;
    if (::waitpid(test, &status, WNOHANG) == test) {
      if (WIFSIGNALED(status)) answer(conn, fp::Signalled, WTERMSIG(status));
      else answer(conn, fp::Exited, WEXITSTATUS(status));
      std::_Exit(0);
    }
    if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) break;  // the client is gone
  }
  ::kill(-test, SIGKILL);
  ::waitpid(test, &status, 0);
  std::_Exit(0);
}

}  // namespace

int serve(const std::string& socket_path, int (*run)(int argc, char** argv)) {
  // An earlier server on this socket (another ctest's, perhaps of an older binary): stop it.
  if (const int old = fp::connect_to(socket_path); old >= 0) {
    fp::send_fds(old, {0, 1, 2}) && fp::write_string(old, fp::kStop);
    ::close(old);
  }
  sockaddr_un addr;
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::unlink(socket_path.c_str());
  struct stat self, bound;
  if (!fp::address_of(socket_path, addr) || listener < 0 ||
      ::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 64) != 0 ||
      ::stat("/proc/self/exe", &self) != 0 || ::stat(socket_path.c_str(), &bound) != 0) {
    std::printf("no test server at %s (%s): each test case runs in a process of its own\n", socket_path.c_str(),
                socket_path.size() + 1 > sizeof addr.sun_path ? "path too long for a socket" : std::strerror(errno));
    return 0;
  }
  std::fflush(nullptr);
  const pid_t server = ::fork();
  if (server < 0) return 0;
  if (server > 0) {
    std::printf("test server %d on %s: each test case runs in a process forked from it\n", server,
                socket_path.c_str());
    return 0;
  }
  // The server: detached from ctest's session and output (ctest waits for this test's output to end).
  ::setsid();
  const int null = ::open("/dev/null", O_RDWR);
  for (int i = 0; i < kStdio; ++i) ::dup2(null, i);
  if (null >= kStdio) ::close(null);
  ::signal(SIGCHLD, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  for (;;) {
    pollfd p{listener, POLLIN, 0};
    const int ready = ::poll(&p, 1, kIdleMs);
    if (ready == 0) break;  // idle: an interrupted ctest's server ends here
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    const timeval limit{5, 0};  // a client that stalls mid-request does not hold the server
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    Request r;
    const bool ok = read_request(conn, r);
    if (ok && r.kind == fp::kStop) break;
    struct stat binary;
    if (!ok || ::stat(r.binary.c_str(), &binary) != 0 || !same_file(binary, self)) {
      answer(conn, fp::Refused, 0);  // another binary (rebuilt since): the client runs it itself
    } else {
      const timeval none{0, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
      const pid_t runner = ::fork();
      if (runner == 0) {
        ::close(listener);
        run_for_client(r, conn, run);
      }
      if (runner < 0) answer(conn, fp::Refused, 0);
    }
    for (int fd : r.fds) ::close(fd);
    ::close(conn);
  }
  struct stat now;  // the socket file, unless a newer server has bound one there since
  if (::stat(socket_path.c_str(), &now) == 0 && now.st_ino == bound.st_ino) ::unlink(socket_path.c_str());
  std::_Exit(0);
}

}  // namespace attn::test
