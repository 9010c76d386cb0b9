#include "attn/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace attn {

namespace fs = std::filesystem;

namespace {

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw std::runtime_error(path + ": cannot open to flush it to disk");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0 && !directory) throw std::runtime_error(path + ": fsync failed");
}

std::string parent_dir(const std::string& path) {
  auto p = fs::path(path).parent_path();
  return p.empty() ? "." : p.string();
}

// Renames tmp over path and makes both durable.
void commit(const std::string& tmp, const std::string& path) {
  fsync_path(tmp, false);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path + ": cannot rename the new file into place");
  }
  fsync_path(parent_dir(path), true);
}

std::string tmp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

// Test hook for the failure path: ATTN_FAIL_CHECKPOINT_WRITE=N makes the N-th write of a .pt
// file in this process fail half-way, as a full disk would.
bool inject_write_failure(const std::string& path) {
  static const long fail_at = [] {
    const char* v = std::getenv("ATTN_FAIL_CHECKPOINT_WRITE");
    return v ? std::atol(v) : 0L;
  }();
  static std::atomic<long> writes{0};
  return fail_at > 0 && fs::path(path).extension() == ".pt" && ++writes == fail_at;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const auto tmp = tmp_name(path);
  const bool fail = inject_write_failure(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << (fail ? bytes.substr(0, bytes.size() / 2) : bytes);
    out.flush();
    if (fail) out.setstate(std::ios::badbit);
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw std::runtime_error(path + ": cannot write (disk full or read-only?)");
    }
  }
  commit(tmp, path);
}

}  // namespace attn
