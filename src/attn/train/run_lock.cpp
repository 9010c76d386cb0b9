#include "attn/train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "attn/core/errors.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

std::string holder_line(const std::string& command) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  char started[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  return "pid " + std::to_string(::getpid()) + " on " + host + " since " + started + ": " + command + "\n";
}

std::string read_fd(int fd) {
  std::string text(512, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

}  // namespace

RunLock::RunLock(const std::string& dir, const std::string& command)
    : dir_(dir), path_((fs::path(dir) / "run.lock").string()), command_(command) {
  acquire();
}

RunLock::~RunLock() {
  release();
  std::error_code ec;
  if (created_dir_ && fs::is_empty(dir_, ec) && !ec) fs::remove(dir_, ec);
}

void RunLock::acquire() {
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    fs::create_directories(dir_, ec);
    if (ec) throw UsageError(dir_ + ": cannot create the run directory (" + ec.message() + ")");
    created_dir_ = true;
  }
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw UsageError(path_ + ": cannot open the run's lock file (" + std::strerror(errno) +
                       "); is the directory writable?");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = read_fd(fd);
      ::close(fd);
      if (err == EWOULDBLOCK)
        throw UsageError(dir_ + ": the run directory is in use by another attn process (" +
                         (holder.empty() ? std::string("it has not written its name yet") : holder.substr(0, 300)) +
                         "); wait for it to end or stop it, or use another --out");
      throw UsageError(path_ + ": cannot lock the run directory (" + std::strerror(err) + ")");
    }
    // The holder before us may have removed the file between our open and our lock: then the
    // lock is on a file no one else can find, and we try again.
    struct stat held, named;
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      fd_ = fd;
      const auto line = holder_line(command_);
      if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, line.data(), line.size(), 0) < 0) {
        // the lock holds without its note; the message of a second process says so
      }
      return;
    }
    ::close(fd);
  }
  throw UsageError(path_ + ": the run's lock file keeps changing; is another attn starting in this directory?");
}

void RunLock::release() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still held: no one can take a lock on a file about to go
  ::close(fd_);
  fd_ = -1;
}

void RunLock::moved_aside(const std::string& aside) {
  if (fd_ >= 0) {
    ::unlink((fs::path(aside) / "run.lock").c_str());
    ::close(fd_);
    fd_ = -1;
  }
  created_dir_ = false;
  acquire();
}

}  // namespace attn
