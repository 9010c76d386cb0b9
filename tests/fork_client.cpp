// The command ctest runs for each test case (the test binary's CROSSCOMPILING_EMULATOR):
//   attn_test_client SOCKET BINARY ARGS...   # runs BINARY ARGS in a process the server forks
//   attn_test_client SOCKET --stop           # stops the server
// It hands the server its stdin, stdout, stderr, working directory and environment, waits, and
// ends as the test ended: its exit code, or killed by the same signal. Without a server (none
// started, another binary's, a socket path too long) it runs BINARY ARGS itself, as ctest would
// have. If the client is killed (ctest's timeout), the server kills the test. fork_protocol.h
// says why. Links nothing but the C++ runtime.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fork_protocol.h"

extern char** environ;

namespace fp = attn::fork_protocol;

namespace {

[[noreturn]] void run_here(char** argv) {
  ::execv(argv[0], argv);
  std::fprintf(stderr, "attn_test_client: cannot run %s\n", argv[0]);
  std::exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: attn_test_client SOCKET BINARY [ARGS...] | SOCKET --stop\n");
    return 2;
  }
  const std::string socket_path = argv[1];
  const bool stop = std::string(argv[2]) == "--stop";
  const int sock = fp::connect_to(socket_path);
  if (sock < 0) {
    if (stop) return 0;  // nothing to stop
    run_here(argv + 2);
  }
  bool sent = fp::send_fds(sock, {0, 1, 2}) && fp::write_string(sock, stop ? fp::kStop : fp::kRun);
  if (stop) return 0;
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) run_here(argv + 2);
  sent = sent && fp::write_string(sock, argv[2]) && fp::write_string(sock, cwd) &&
         fp::write_string(sock, std::to_string(argc - 2));
  for (int i = 2; sent && i < argc; ++i) sent = fp::write_string(sock, argv[i]);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  sent = sent && fp::write_string(sock, std::to_string(env.size()));
  for (size_t i = 0; sent && i < env.size(); ++i) sent = fp::write_string(sock, env[i]);
  int32_t answer[2] = {fp::Refused, 0};
  if (!sent || !fp::read_all(sock, answer, sizeof answer)) {
    // Nothing ran if the request did not get through; after that, the test's fate is unknown.
    if (!sent) run_here(argv + 2);
    std::fprintf(stderr, "attn_test_client: the test server closed the connection before the test ended\n");
    return 1;
  }
  ::close(sock);
  if (answer[0] == fp::Refused) run_here(argv + 2);
  if (answer[0] == fp::Signalled) {  // end as the test did, so that ctest names the signal
    ::signal(answer[1], SIG_DFL);
    ::raise(answer[1]);
    return 128 + answer[1];
  }
  return answer[1];
}
