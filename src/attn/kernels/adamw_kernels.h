// The element update of AdamW (attn/train/fused_adamw.h) over a range of one parameter's
// elements: p, m and v read and written once, g read once. LibTorch-free.
//
// The loop is vectorised (sqrt and division included: the file is built without errno for
// math functions) and compiled twice, for the baseline x86-64 and for AVX2, chosen at run time
// with the kernels' instruction set (attn/kernels/isa_copies.h, ATTN_KERNEL_ISA). Each lane
// does the same IEEE operations in the same order, without contracting them into FMAs, so
// every version gives the same bits. (The scalar loop it replaces ran at ~3 cycles per element,
// a sqrt and a division each: 2.7 ms of a 45 ms training step on the notebook's 1.6 million
// embedding weights; the AVX2 loop is bound by memory, ~0.5 ms.)
#pragma once

#include <cstdint>

namespace attn::kernels {

template <typename T>
struct AdamWProblem {
  T* p = nullptr;        ///< parameter (n)
  T* m = nullptr;        ///< first moment (n)
  T* v = nullptr;        ///< second moment (n)
  const T* g = nullptr;  ///< gradient (n)
  int64_t n = 0;
  // The step's scalars, as LibTorch computes them (in double, then rounded to T):
  T decay = 1;         ///< 1 - lr * weight_decay (exactly 1 without weight decay)
  T beta1 = 0, one_minus_beta1 = 0, beta2 = 0, one_minus_beta2 = 0;
  T inv_root_bc2 = 1;  ///< 1 / sqrt(1 - beta2^t)
  T eps = 0;
  T neg_step = 0;      ///< -lr / (1 - beta1^t)
};

/// p = p * decay; m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g;
/// p += neg_step * m / (sqrt(v) * inv_root_bc2 + eps), for the elements [begin, end).
template <typename T>
void adamw_update(const AdamWProblem<T>& q, int64_t begin, int64_t end);

}  // namespace attn::kernels
