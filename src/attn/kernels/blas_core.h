// Which kernel the BLAS under LibTorch runs, and making OpenBLAS run the best one this CPU has.
//
// OpenBLAS (a DYNAMIC_ARCH build, as Debian's) picks its kernels from a table of CPU models when
// it loads. A CPU newer than the table gets the generic "Prescott" (SSE3) kernels: Debian 12's
// 0.3.21 on an Intel Xeon of family 6 model 207 (AVX-512 with bf16) runs a 2048 x 2048 float32
// product at 42 GFLOP/s on 2 threads, 215 with OPENBLAS_CORETYPE=SkylakeX. OpenBLAS reads that
// variable only while it loads, before main(), so attn re-executes itself once with it set
// (same process id, arguments, open files and standard input; nothing has been read or written
// yet when it does). LibTorch-free; looks OpenBLAS up at run time, so that any other BLAS works
// (it is reported as such and left alone).
//
//   OPENBLAS_CORETYPE=NAME   the user's own choice: always wins, never changed
//   ATTN_BLAS_CORE=keep      keep OpenBLAS's own choice (default: auto)
#pragma once

#include <string>

#include "attn/kernels/isa.h"

namespace attn::kernels {

/// An OpenBLAS core name (case-insensitive) ranked by the widest vectors its kernels use:
/// 3 AVX-512 (SkylakeX, Cooperlake, SapphireRapids), 2 AVX2 (Haswell, Zen), 1 AVX (Sandybridge,
/// Bulldozer ... Excavator), 0 the older x86 ones (Prescott, Nehalem, ...); -1 a name not known
/// to attn, which is never overridden.
int core_tier(const std::string& core);

/// The strongest OpenBLAS core this CPU runs correctly: "Cooperlake", "SkylakeX", "Haswell",
/// "Sandybridge", or "" where it has none of those (or is not x86-64).
std::string best_core(const CpuVectors& cpu);

/// What to do at start-up: the core to re-execute with, or "" to keep the one running.
/// running: openblas_get_corename() ("" for another BLAS); user_coretype: OPENBLAS_CORETYPE
/// (nullptr unset); mode: ATTN_BLAS_CORE (nullptr, "auto" or "keep"; anything else is refused
/// by use_best_blas_core before this is asked).
std::string core_to_choose(const std::string& running, const CpuVectors& cpu, const char* user_coretype,
                           const char* mode);

/// What this process runs: "OpenBLAS 0.3.21 SkylakeX (chosen by attn; OpenBLAS picked Prescott)",
/// "OpenBLAS 0.3.21 Cooperlake (OpenBLAS's choice)", "OpenBLAS 0.3.21 Prescott
/// (OPENBLAS_CORETYPE=Prescott; this CPU runs Cooperlake)", "not OpenBLAS (kernel unknown)".
struct BlasInfo {
  std::string library;  ///< "OpenBLAS 0.3.21", or "not OpenBLAS"
  std::string core;     ///< the kernels running, "" when not known
  std::string how;      ///< why these: "chosen by attn; OpenBLAS picked Prescott", ...
  std::string describe() const;
};
const BlasInfo& blas_info();

/// First thing in every command that computes (train, eval, predict, bench): where OpenBLAS runs
/// a weaker kernel than this CPU supports and neither OPENBLAS_CORETYPE nor ATTN_BLAS_CORE=keep
/// is set, re-executes the program (/proc/self/exe, argv unchanged) with OPENBLAS_CORETYPE set
/// and ATTN_BLAS_PICKED naming OpenBLAS's own pick, which blas_info() then reports. Returns when
/// nothing needs changing, or when the re-execution failed (a warning on stderr: the run goes
/// on with the weaker kernel). A bad ATTN_BLAS_CORE is a UsageError.
/// Tests only: ATTN_TEST_BLAS_PICKED=NAME stands in for OpenBLAS's own pick in the decision.
void use_best_blas_core(char** argv);

}  // namespace attn::kernels
