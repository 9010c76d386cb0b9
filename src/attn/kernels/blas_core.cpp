#include "attn/kernels/blas_core.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "attn/core/errors.h"

namespace attn::kernels {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// OpenBLAS's exported queries, looked up at run time: absent in any other BLAS.
std::string openblas_query(const char* symbol) {
  using Query = char* (*)();
  auto* query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, symbol));
  const char* text = query ? query() : nullptr;
  return text ? std::string(text) : std::string();
}

// "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21".
std::string library_name(const std::string& config) {
  if (config.empty()) return "not OpenBLAS";
  const auto first = config.find(' ');
  const auto second = first == std::string::npos ? first : config.find(' ', first + 1);
  return config.substr(0, second);
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

int core_tier(const std::string& core) {
  const std::string c = lower(core);
  for (const char* name : {"skylakex", "cooperlake", "sapphirerapids"})
    if (c == name) return 3;
  for (const char* name : {"haswell", "zen"})
    if (c == name) return 2;
  for (const char* name : {"sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"})
    if (c == name) return 1;
  for (const char* name : {"prescott", "katmai", "coppermine", "northwood", "banias", "atom", "core2", "penryn",
                           "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat"})
    if (c == name) return 0;
  return -1;
}

std::string best_core(const CpuVectors& cpu) {
  if (cpu.avx512) return cpu.avx512_bf16 ? "Cooperlake" : "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  if (cpu.avx) return "Sandybridge";
  return "";
}

std::string core_to_choose(const std::string& running, const CpuVectors& cpu, const char* user_coretype,
                           const char* mode) {
  if (user_coretype && *user_coretype) return "";     // the user's own choice always wins
  if (mode && std::strcmp(mode, "keep") == 0) return "";
  const std::string best = best_core(cpu);
  const int have = core_tier(running);
  if (best.empty() || have < 0) return "";            // another BLAS, or a core attn does not know
  return have < core_tier(best) ? best : "";
}

std::string BlasInfo::describe() const {
  std::string s = library;
  if (!core.empty()) s += " " + core;
  if (!how.empty()) s += " (" + how + ")";
  return s;
}

const BlasInfo& blas_info() {
  static const BlasInfo info = [] {
    BlasInfo b;
    const std::string config = openblas_query("openblas_get_config");
    b.library = library_name(config);
    b.core = openblas_query("openblas_get_corename");
    if (config.empty()) {
      b.how = "kernel unknown";
      return b;
    }
    // The core attn would choose with nothing set: non-empty where OpenBLAS's is weaker.
    const std::string best = core_to_choose(b.core, cpu_vectors(), nullptr, nullptr);
    const bool weaker = !best.empty();
    const char* picked = env("ATTN_BLAS_PICKED");
    const char* user = env("OPENBLAS_CORETYPE");
    if (picked && user) {
      b.how = lower(b.core) == lower(user) ? std::string("chosen by attn; OpenBLAS picked ") + picked
                                           : std::string("attn asked for ") + user + ", OpenBLAS kept its own";
    } else if (user) {
      b.how = std::string("OPENBLAS_CORETYPE=") + user;
      if (weaker) b.how += "; this CPU runs " + best;
    } else {
      b.how = "OpenBLAS's choice";
      if (weaker) {
        const char* mode = env("ATTN_BLAS_CORE");
        b.how += mode && std::strcmp(mode, "keep") == 0 ? ", kept by ATTN_BLAS_CORE=keep; this CPU runs " + best
                                                        : "; this CPU runs " + best;
      }
    }
    return b;
  }();
  return info;
}

void use_best_blas_core(char** argv) {
  const char* mode = env("ATTN_BLAS_CORE");
  if (mode && std::strcmp(mode, "auto") != 0 && std::strcmp(mode, "keep") != 0)
    throw UsageError(std::string("ATTN_BLAS_CORE=") + mode +
                                ": expected auto (the default: OpenBLAS's best kernel for this CPU) or keep "
                                "(OpenBLAS's own choice); to name a kernel, set OPENBLAS_CORETYPE instead");
  if (env("ATTN_BLAS_PICKED")) return;  // already re-executed (or a child of a process that was)
  const char* test_pick = env("ATTN_TEST_BLAS_PICKED");
  const std::string running = test_pick ? test_pick : openblas_query("openblas_get_corename");
  const std::string choice = core_to_choose(running, cpu_vectors(), env("OPENBLAS_CORETYPE"), mode);
  if (choice.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", choice.c_str(), 1) != 0 || setenv("ATTN_BLAS_PICKED", running.c_str(), 1) != 0)
    return;
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  const int err = errno;  // still here: run on with OpenBLAS's own choice, and say so
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("ATTN_BLAS_PICKED");
  std::fprintf(stderr,
               "attn: warning: OpenBLAS runs its %s kernels, this CPU runs %s; re-executing with "
               "OPENBLAS_CORETYPE=%s failed (%s). Set OPENBLAS_CORETYPE=%s yourself for faster products.\n",
               running.c_str(), choice.c_str(), choice.c_str(), std::strerror(err), choice.c_str());
}

}  // namespace attn::kernels
