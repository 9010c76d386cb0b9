#include "attn/io/legacy_check.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <torch/torch.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <vector>

#include "attn/io/checkpoint_format.h"

namespace attn::legacy_check {

using checkpoint_format::crc32_of;

namespace {

// The CRC-32 of a raw-deflate stream's output, or nullopt when the stream is damaged or does
// not inflate to exactly usize bytes.
std::optional<uint32_t> inflated_crc32(const char* data, size_t csize, size_t usize) {
  z_stream z{};
  if (::inflateInit2(&z, -MAX_WBITS) != Z_OK) return std::nullopt;
  std::vector<Bytef> out(64 * 1024);
  uLong crc = ::crc32_z(0L, Z_NULL, 0);
  size_t produced = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(csize);
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    rc = ::inflate(&z, Z_NO_FLUSH);
    const size_t n = out.size() - z.avail_out;
    crc = ::crc32_z(crc, out.data(), n);
    produced += n;
    if (produced > usize || (rc == Z_OK && n == 0 && z.avail_in == 0)) rc = Z_DATA_ERROR;
  }
  ::inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != usize) return std::nullopt;
  return static_cast<uint32_t>(crc);
}

}  // namespace

// Checksum-less files (formats 1-2) have only the zip's own CRC-32 per record, which LibTorch's
// reader does not always check; a damaged record can reach, and crash, LibTorch's TorchScript
// parser (found by fuzz_checkpoint). So every record's CRC is checked here first: stored ones
// directly, deflated ones after inflating them (LibTorch writes only stored records).
std::string zip_problem(const std::string& b) {
  auto u16 = [&](size_t at) { return uint32_t(uint8_t(b[at])) | uint32_t(uint8_t(b[at + 1])) << 8; };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  if (b.size() < 22) return "too short to be an archive";
  size_t eocd = std::string::npos;
  for (size_t i = b.size() - 22 + 1; i-- > 0 && b.size() - i <= 22 + 65535;)
    if (u32(i) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string::npos) return "no end of archive record";
  const uint32_t entries = u16(eocd + 10), cd_size = u32(eocd + 12), cd_offset = u32(eocd + 16);
  if (entries == 0xffff || cd_offset == 0xffffffffu) return "";  // zip64
  if (size_t(cd_offset) + cd_size > eocd) return "central directory out of bounds";
  size_t at = cd_offset;
  for (uint32_t e = 0; e < entries; ++e) {
    if (at + 46 > eocd || u32(at) != 0x02014b50) return "damaged central directory";
    const uint32_t method = u16(at + 10), crc = u32(at + 16), csize = u32(at + 20), usize = u32(at + 24);
    const size_t name_len = u16(at + 28), extra_len = u16(at + 30), comment_len = u16(at + 32);
    const size_t local = u32(at + 42);
    at += 46 + name_len + extra_len + comment_len;
    if (at > eocd) return "damaged central directory";
    if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu) continue;  // zip64 record
    if (local + 30 > b.size() || u32(local) != 0x04034b50) return "damaged record header";
    const size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    if (data + csize > b.size()) return "record out of bounds";
    if (method == 0 && (csize != usize || crc32_of(b.data() + data, csize) != crc)) return "record checksum mismatch";
    if (method == 8 && inflated_crc32(b.data() + data, csize, usize) != std::optional<uint32_t>(crc))
      return "record checksum mismatch";  // LibTorch writes stored records; a deflated one is checked too
    if (method != 0 && method != 8) return "record with unknown compression method " + std::to_string(method);
  }
  return "";
}

// LibTorch's reader crashes (SIGSEGV) on some damaged archives. Without a checksum to rule
// damage out, a checksum-less file is first read in a forked child: a crash there is reported as
// damage instead of taking the process down. (Only formats 1-2 pay for the fork.) A second line
// of defence only: a crash that depends on heap garbage can spare the child and hit the parent
// (CI, 2026-11-26), which is why zip_problem checks every record's CRC before this.
std::string legacy_read_problem(const std::string& bytes) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return "";  // cannot probe: read it directly, as before
  if (child == 0) {
    // Quiet: a crash report (a sanitizer's) is not for the user's terminal.
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
      c10::IValue header;
      archive.try_read("header", header);
      torch::serialize::InputArchive model;
      archive.try_read("model", model);
    } catch (...) {
    }
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return "LibTorch's reader crashed on it (signal " + std::to_string(WTERMSIG(status)) + ")";
  // The child exits 0 when the read ends, by success or by exception; anything else means it
  // died on the way (AddressSanitizer, for one, turns a SEGV into exit code 1).
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return "LibTorch's reader crashed on it (exit code " + std::to_string(WEXITSTATUS(status)) + ")";
  return "";
}

}  // namespace attn::legacy_check
