#include "attn/kernels/isa.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace attn::kernels {

CpuVectors cpu_vectors() {
  CpuVectors c;
#if defined(__x86_64__)
  __builtin_cpu_init();
  c.avx = __builtin_cpu_supports("avx");
  c.avx2_fma = c.avx && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  c.avx512 = c.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10
  c.avx512_bf16 = c.avx512 && __builtin_cpu_supports("avx512bf16");
#endif
#endif
  return c;
}

namespace {

// -1: no choice forced; else an Isa.
std::atomic<int> forced{-1};

Isa from_name(const std::string& name) {
  return name == "avx512" ? Isa::Avx512 : name == "avx2" ? Isa::Avx2 : Isa::Generic;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Generic: return "generic";
  }
  return "generic";
}

std::vector<std::string> kernel_isas() {
  [[maybe_unused]] const auto cpu = cpu_vectors();
  std::vector<std::string> out;
#ifdef ATTN_HAVE_AVX512_KERNELS
  if (cpu.avx512 && cpu.avx2_fma) out.push_back("avx512");
#endif
#ifdef ATTN_HAVE_AVX2_KERNELS
  if (cpu.avx2_fma) out.push_back("avx2");
#endif
  out.push_back("generic");
  return out;
}

Isa kernel_isa() {
  static const Isa best = [] {
    const auto usable = kernel_isas();
    const char* env = std::getenv("ATTN_KERNEL_ISA");
    if (env && std::find(usable.begin(), usable.end(), env) != usable.end()) return from_name(env);
    return from_name(usable.front());
  }();
  const int f = forced.load();
  return f < 0 ? best : static_cast<Isa>(f);
}

bool force_kernel_isa(const std::string& isa) {
  if (isa.empty()) {
    forced.store(-1);
    return true;
  }
  const auto usable = kernel_isas();
  if (std::find(usable.begin(), usable.end(), isa) == usable.end()) return false;
  forced.store(static_cast<int>(from_name(isa)));
  return true;
}

}  // namespace attn::kernels
