// Chooses the instruction set of the attention kernels at run time, and the tile grids.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "attn/kernels/flash_kernels.h"
#include "attn/kernels/isa_copies.h"

namespace attn::kernels {

namespace generic {
template <typename T>
const FlashKernels<T>& table();
}
#ifdef ATTN_HAVE_AVX2_KERNELS
namespace avx2 {
template <typename T>
const FlashKernels<T>& table();
}
#endif
#ifdef ATTN_HAVE_AVX512_KERNELS
namespace avx512 {
template <typename T>
const FlashKernels<T>& table();
}
#endif

namespace {

// A grid of tiles of at most `max_tile`, evened out (200 queries: 4 tiles of 50, not 64+64+64+8).
void grid(int64_t n, int64_t max_tile, int64_t& tile, int64_t& tiles) {
  tiles = std::max<int64_t>(1, (n + max_tile - 1) / max_tile);
  tile = std::max<int64_t>(1, (n + tiles - 1) / tiles);
  tiles = std::max<int64_t>(1, (n + tile - 1) / tile);
}

bool cpu_has(const char* isa) {
#if defined(__x86_64__) || defined(__i386__)
  if (std::strcmp(isa, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (std::strcmp(isa, "avx512") == 0)
    return cpu_has("avx2") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#endif
  return std::strcmp(isa, "generic") == 0;
}

std::atomic<const char*> forced_isa{nullptr};

}  // namespace

template <typename T>
void plan_tiles(FlashProblem<T>& p) {
  grid(p.Tq, 64, p.q_tile, p.q_tiles);
  grid(p.Tk, 256, p.k_tile, p.k_tiles);
}

std::vector<std::string> kernel_isas() {
  std::vector<std::string> out;
#ifdef ATTN_HAVE_AVX512_KERNELS
  if (cpu_has("avx512")) out.push_back("avx512");
#endif
#ifdef ATTN_HAVE_AVX2_KERNELS
  if (cpu_has("avx2")) out.push_back("avx2");
#endif
  out.push_back("generic");
  return out;
}

bool force_kernel_isa(const std::string& isa) {
  if (isa.empty()) {
    forced_isa.store(nullptr);
    return true;
  }
  for (const char* known : {"avx512", "avx2", "generic"})
    if (isa == known) {
      const auto usable = kernel_isas();
      if (std::find(usable.begin(), usable.end(), isa) == usable.end()) return false;
      forced_isa.store(known);
      return true;
    }
  return false;
}

template <typename T>
const FlashKernels<T>& flash_kernels(const char** isa) {
  // ATTN_KERNEL_ISA=generic|avx2|avx512 picks another (narrower) set, for comparisons.
  static const std::string best = [] {
    const auto usable = kernel_isas();
    const char* env = std::getenv("ATTN_KERNEL_ISA");
    if (env && std::find(usable.begin(), usable.end(), env) != usable.end()) return std::string(env);
    return usable.front();
  }();
  const char* forced = forced_isa.load();
  const std::string pick = forced ? forced : best;
  if (isa) *isa = pick == "avx512" ? "avx512" : pick == "avx2" ? "avx2" : "generic";
#ifdef ATTN_HAVE_AVX512_KERNELS
  if (pick == "avx512") return avx512::table<T>();
#endif
#ifdef ATTN_HAVE_AVX2_KERNELS
  if (pick == "avx2") return avx2::table<T>();
#endif
  return generic::table<T>();
}

bool isa_has_avx2() {
  const char* isa = nullptr;
  flash_kernels<float>(&isa);
  return std::strcmp(isa, "generic") != 0;  // avx2, or avx512 (which has AVX2 too)
}

template void plan_tiles<float>(FlashProblem<float>&);
template void plan_tiles<double>(FlashProblem<double>&);
template const FlashKernels<float>& flash_kernels<float>(const char**);
template const FlashKernels<double>& flash_kernels<double>(const char**);

}  // namespace attn::kernels
