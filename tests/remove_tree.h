// Removes a test's scratch directory and everything under it, through POSIX nftw rather than
// std::filesystem::remove_all: the pip wheels' libtorch_cpu.so exports the std::filesystem code
// of the libstdc++ it was linked with (pytorch/pytorch#133437), and with LibTorch 2.11 our
// remove_all calls ran that copy and crashed at every scratch directory's removal.
#pragma once

#include <ftw.h>

#include <cstdio>
#include <string>

namespace attn::test {

inline void remove_tree(const std::string& dir) {
  auto remove_one = [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); };
  ::nftw(dir.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);  // children first; links not followed
}

}  // namespace attn::test
