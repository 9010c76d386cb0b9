// The instruction set of attn's own CPU kernels: one choice for all of them (the tiled attention
// kernels, add & LayerNorm's AVX-512 rows, and the element loops of AdamW, dropout and the
// blocked kernels, isa_copies.h), made once from what the CPU (cpu_vectors below) and the build
// have. ATTN_KERNEL_ISA=generic|avx2|avx512 or force_kernel_isa pick a narrower one, for
// comparisons. LibTorch-free.
#pragma once

#include <string>
#include <vector>

namespace attn::kernels {

/// This CPU's vector extensions, each usable: the CPU has it and the operating system saves its
/// registers (cpuid and xgetbv, through GCC's __builtin_cpu_supports). What attn's kernels run
/// (kernel_isa) and which OpenBLAS kernel suits the CPU (blas_core.h) are read from it.
struct CpuVectors {
  bool avx = false;
  bool avx2_fma = false;     ///< AVX2 and FMA: OpenBLAS's Haswell / Zen kernels
  bool avx512 = false;       ///< AVX-512 F, CD, BW, DQ and VL: its SkylakeX kernels
  bool avx512_bf16 = false;  ///< and AVX512_BF16: its Cooperlake kernels (bf16 products)
};
CpuVectors cpu_vectors();

enum class Isa { Generic, Avx2, Avx512 };

/// "generic", "avx2" or "avx512".
const char* isa_name(Isa isa);

/// The instruction set the kernels run now.
Isa kernel_isa();

/// The instruction sets this build and CPU can run, widest first ("generic" always last).
std::vector<std::string> kernel_isas();

/// For tests and benchmarks: run `isa` from now on ("" = the default again). False, and no
/// change, when this build or CPU cannot run it.
bool force_kernel_isa(const std::string& isa);

}  // namespace attn::kernels
