// Shared by the libFuzzer harnesses: the input as a file, since attn's readers take paths, as
// users give them. Each harness catches only the errors attn documents for bad input (one
// clear message); anything else escaping, and any sanitizer report, is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace attn::fuzz {

/// A scratch directory for this process, removed at exit.
inline const std::filesystem::path& scratch() {
  static const struct Dir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("attn_fuzz_" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } dir;
  return dir.path;
}

/// Writes `bytes` to `name` in the scratch directory and returns its path.
inline std::string write_file(const std::string& name, const std::string& bytes) {
  const auto path = (scratch() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace attn::fuzz
