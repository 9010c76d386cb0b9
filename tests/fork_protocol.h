// What the test client (fork_client.cpp) and the test server (fork_server.cpp) say to each other
// over a UNIX socket. Why they exist: every attn_tests process pays ~0.7 s to load LibTorch and
// the ~290 libraries Debian's LibTorch needs, before its test case starts; ctest runs one
// process per test case. The server loads them once and forks a fresh process per test case.
//
// A request: the client's stdin, stdout and stderr (SCM_RIGHTS, with the first byte), then
// strings, each a u32 length and its bytes: "attn-fork-1", the test binary's path, the working
// directory, the argument count and the arguments, the environment count and the variables.
// "attn-fork-stop" alone stops the server. The answer: two i32, kind (0 = exited, 1 = killed by a
// signal, 2 = refused: the client runs the binary itself) and the exit code or signal number.
// Torch-free.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace attn::fork_protocol {

constexpr const char* kRun = "attn-fork-1";
constexpr const char* kStop = "attn-fork-stop";
enum Kind : int32_t { Exited = 0, Signalled = 1, Refused = 2 };

inline bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

inline bool read_all(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

inline bool write_string(int fd, const std::string& s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  return write_all(fd, &n, sizeof n) && write_all(fd, s.data(), s.size());
}

inline bool read_string(int fd, std::string& s) {
  uint32_t n = 0;
  if (!read_all(fd, &n, sizeof n) || n > (64u << 20)) return false;
  s.resize(n);
  return read_all(fd, s.data(), n);
}

/// A socket address for `path`; false when the path does not fit (108 bytes on Linux).
inline bool address_of(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() + 1 > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

/// A connection to the server at `path`, or -1.
inline int connect_to(const std::string& path) {
  sockaddr_un addr;
  if (!address_of(path, addr)) return -1;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends one byte with `fds` attached.
inline bool send_fds(int sock, const std::vector<int>& fds) {
  char byte = 'F';
  iovec iov{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov, msg.msg_iovlen = 1;
  msg.msg_control = control.data(), msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  return ::sendmsg(sock, &msg, 0) == 1;
}

/// Receives the byte and the `count` descriptors send_fds attached.
inline bool receive_fds(int sock, size_t count, std::vector<int>& fds) {
  char byte = 0;
  iovec iov{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * count));
  msghdr msg{};
  msg.msg_iov = &iov, msg.msg_iovlen = 1;
  msg.msg_control = control.data(), msg.msg_controllen = control.size();
  if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return false;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int) * count)) return false;
  fds.resize(count);
  std::memcpy(fds.data(), CMSG_DATA(c), sizeof(int) * count);
  return true;
}

}  // namespace attn::fork_protocol
