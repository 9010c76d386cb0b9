// Which BLAS kernel attn runs: the choice (attn/kernels/blas_core.h) as a table of CPUs and
// OpenBLAS picks, and through the binary, where a weaker pick is replaced by re-executing.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "attn/kernels/blas_core.h"
#include "cli_support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_blas_core {

using namespace attn::kernels;
using attn::test::ScopedEnv;

namespace {

CpuVectors cpu(int tier, bool bf16 = false) {
  CpuVectors c;
  c.avx = tier >= 1, c.avx2_fma = tier >= 2, c.avx512 = tier >= 3, c.avx512_bf16 = tier >= 3 && bf16;
  return c;
}

bool openblas_loaded() { return dlsym(RTLD_DEFAULT, "openblas_get_corename") != nullptr; }

}  // namespace

TEST_CASE("OpenBLAS core names rank by the vectors their kernels use, and unknown names are -1", "[blas]") {
  CHECK(core_tier("Prescott") == 0);
  CHECK(core_tier("Nehalem") == 0);
  CHECK(core_tier("Sandybridge") == 1);
  CHECK(core_tier("Haswell") == 2);
  CHECK(core_tier("Zen") == 2);
  CHECK(core_tier("SkylakeX") == 3);
  CHECK(core_tier("COOPERLAKE") == 3);   // OpenBLAS reads OPENBLAS_CORETYPE case-insensitively
  CHECK(core_tier("sapphirerapids") == 3);
  CHECK(core_tier("Neoverse") == -1);
  CHECK(core_tier("") == -1);
}

TEST_CASE("the best core follows the CPU's widest usable vectors", "[blas]") {
  CHECK(best_core(cpu(0)) == "");
  CHECK(best_core(cpu(1)) == "Sandybridge");
  CHECK(best_core(cpu(2)) == "Haswell");
  CHECK(best_core(cpu(3)) == "SkylakeX");
  CHECK(best_core(cpu(3, true)) == "Cooperlake");
}

TEST_CASE("attn replaces a weaker OpenBLAS pick, and only that", "[blas]") {
  // The Intel Xeon (family 6 model 207) that OpenBLAS 0.3.21 does not know: Prescott picked.
  CHECK(core_to_choose("Prescott", cpu(3, true), nullptr, nullptr) == "Cooperlake");
  CHECK(core_to_choose("Prescott", cpu(3), nullptr, "auto") == "SkylakeX");
  CHECK(core_to_choose("Zen", cpu(3, true), nullptr, nullptr) == "Cooperlake");  // an AVX-512 AMD seen as Zen
  CHECK(core_to_choose("Prescott", cpu(2), nullptr, nullptr) == "Haswell");
  // As strong as the CPU allows already: kept.
  CHECK(core_to_choose("Cooperlake", cpu(3, true), nullptr, nullptr) == "");
  CHECK(core_to_choose("SkylakeX", cpu(3, true), nullptr, nullptr) == "");  // same kernels for float32
  CHECK(core_to_choose("Zen", cpu(2), nullptr, nullptr) == "");
  CHECK(core_to_choose("Prescott", cpu(0), nullptr, nullptr) == "");
  // The user's own variable always wins, ATTN_BLAS_CORE=keep turns the choice off.
  CHECK(core_to_choose("Prescott", cpu(3), "Prescott", nullptr) == "");
  CHECK(core_to_choose("Prescott", cpu(3), "Haswell", "auto") == "");
  CHECK(core_to_choose("Prescott", cpu(3), nullptr, "keep") == "");
  // Another BLAS (no core name), or a core attn does not know: left alone.
  CHECK(core_to_choose("", cpu(3), nullptr, nullptr) == "");
  CHECK(core_to_choose("NewCore", cpu(3), nullptr, nullptr) == "");
}

TEST_CASE("this process reports the BLAS it runs", "[blas]") {
  const auto& b = blas_info();
  if (!openblas_loaded()) {
    CHECK(b.library == "not OpenBLAS");
    return;
  }
  using Query = char* (*)();
  const std::string core = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))();
  CHECK(b.library.rfind("OpenBLAS 0.", 0) == 0);
  CHECK(b.core == core);
  CHECK(b.describe().find(b.library + " " + core + " (") == 0);
}

TEST_CASE("the binary re-executes itself onto the best kernel, says so, and keeps its arguments",
          "[blas][cli]") {
  if (!openblas_loaded()) {
    WARN("not checked: the BLAS under LibTorch is not OpenBLAS");
    return;
  }
  const std::string best = best_core(cpu_vectors());
  if (best.empty()) {
    WARN("not checked: this CPU has no vector extension OpenBLAS ranks above its generic kernels");
    return;
  }
  attn::test::Sandbox sb;
  ScopedEnv no_user("OPENBLAS_CORETYPE", nullptr), no_pick("ATTN_BLAS_PICKED", nullptr), no_mode("ATTN_BLAS_CORE", nullptr);
  const std::string bench = "bench matmul --size 48 --repeats 1 --threads 1 --json";
  {  // OpenBLAS's pick is stood in for (Prescott): attn runs the best core in a second exec
    ScopedEnv pick("ATTN_TEST_BLAS_PICKED", "Prescott");
    const auto r = sb.attn(bench);
    REQUIRE(r.rc == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["size"] == 48);  // the arguments survived the exec
    CHECK(j["blas_core"] == best);
    CHECK(j["blas"].get<std::string>().find(best + " (chosen by attn; OpenBLAS picked Prescott)") !=
          std::string::npos);
    ScopedEnv keep("ATTN_BLAS_CORE", "keep");  // no exec: OpenBLAS's own pick stays
    const auto k = nlohmann::json::parse(sb.attn(bench).out);
    CHECK(k["blas"].get<std::string>().find("chosen by attn") == std::string::npos);
  }
  {  // the user's own kernel always wins, and the log says what the CPU could run
    ScopedEnv user("OPENBLAS_CORETYPE", "Prescott");
    ScopedEnv pick("ATTN_TEST_BLAS_PICKED", "Prescott");
    const auto j = nlohmann::json::parse(sb.attn(bench).out);
    CHECK(j["blas_core"] == "Prescott");
    CHECK(j["blas"].get<std::string>().find("(OPENBLAS_CORETYPE=Prescott; this CPU runs " + best + ")") !=
          std::string::npos);
  }
  {  // a bad ATTN_BLAS_CORE is one clear message and exit code 2
    ScopedEnv bad("ATTN_BLAS_CORE", "fastest");
    const auto r = sb.attn(bench);
    CHECK(r.rc == 2);
    CHECK(r.err.find("ATTN_BLAS_CORE=fastest: expected auto") != std::string::npos);
    CHECK(r.out.empty());
  }
}

}  // namespace test_blas_core
