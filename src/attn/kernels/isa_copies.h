// Element loops compiled twice: for the baseline x86-64 the library is built for (SSE2, 4
// floats at a time) and for AVX2 (8), and run in the copy that the kernels' instruction set
// (isa.h: generic, avx2 or avx512, ATTN_KERNEL_ISA) allows. The loop is a lambda
// marked ATTN_INLINE, inlined into both copies and compiled there for each instruction set.
// Used by the kernels whose loops give the same bits in either copy (lanes across elements, no
// FMA contraction): AdamW's update, the blocked kernels' row loops, dropout's hash loop.
#pragma once

#include "attn/kernels/isa.h"

#define ATTN_INLINE __attribute__((always_inline))

namespace attn::kernels {

template <typename F>
void baseline_copy(const F& loop) {
  loop();
}

#if defined(__x86_64__) && defined(__GNUC__)
#define ATTN_HAVE_AVX2_COPY 1
template <typename F>
__attribute__((target("avx2"))) void avx2_copy(const F& loop) {
  loop();
}
#endif

/// loop() in its AVX2 copy where the instruction set allows, else in the baseline one.
template <typename F>
void run_widest(const F& loop) {
#ifdef ATTN_HAVE_AVX2_COPY
  if (kernel_isa() != Isa::Generic) return avx2_copy(loop);  // avx2, or avx512 (which has AVX2)
#endif
  baseline_copy(loop);
}

}  // namespace attn::kernels
