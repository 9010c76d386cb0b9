#include "attn/train/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace attn {

namespace {

std::atomic<int> received{0};
std::atomic<const char*> at_once{nullptr};  // StopAtOnce's message
struct sigaction previous_int, previous_term;

void write_stderr(const char* msg) { (void)!::write(STDERR_FILENO, msg, std::strlen(msg)); }

void on_signal(int sig) {
  if (const char* msg = at_once.load()) {
    write_stderr(msg);
    ::_exit(128 + sig);
  }
  if (received.exchange(sig) != 0) {  // the second one: stop now (async-signal-safe calls only)
    const char msg[] = "\n[run] second signal: stopping at once; --resume continues from the last checkpoint\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(128 + sig);
  }
  const char msg[] = "\n[run] signal received: finishing this step and writing a checkpoint (again to stop at once)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  received = 0;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &previous_int);
  sigaction(SIGTERM, &sa, &previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int InterruptGuard::pending() { return received.load(); }

StopAtOnce::StopAtOnce(const char* message) {
  at_once = message;
  if (const int sig = received.load()) {
    write_stderr(message);
    ::_exit(128 + sig);
  }
}

StopAtOnce::~StopAtOnce() { at_once = nullptr; }

const char* signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "a signal";
}

}  // namespace attn
