// A fresh scratch directory under the system temp dir for one test, removed at its end (through
// remove_tree.h, never std::filesystem::remove_all: see there). Torch-free.
#pragma once

#include <unistd.h>  // getpid

#include <filesystem>
#include <fstream>
#include <string>

#include "remove_tree.h"

namespace attn::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("attn_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { remove_tree(path.string()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path / name).string(); }
  /// Writes `text` to `name` (creating its folders) and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace attn::test
