// The instruction set of attn's own CPU kernels: one choice for all of them, made once from what
// the CPU (cpu_vectors below) and the build have. ATTN_KERNEL_ISA=generic|avx2|avx512 or
// force_kernel_isa pick a narrower one, for comparisons. LibTorch-free.
//
// Two ways of building for several instruction sets, one per need:
// - kernels written for an instruction set (intrinsics, or loops the compiler vectorises with
//   FMA for it: the tiled attention kernels, flash/, and add & LayerNorm's rows, norm_rows.h):
//   each source is compiled once per set with that set's flags, in the namespace
//   ATTN_KERNEL_ISA names (src/CMakeLists.txt, attn_kernel_variant), and the caller picks the
//   copy by kernel_isa();
// - element loops that must give the same bits on every set (AdamW's update, dropout's hash,
//   the blocked kernels' row loops, the loss's rows): one source, inlined into a baseline and an
//   AVX2 copy (isa_copies.h, run_widest).
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
