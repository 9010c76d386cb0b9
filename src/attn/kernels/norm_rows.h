// Add & LayerNorm's rows (norm_kernels.h) shared by its plain loops (norm_kernels.cpp) and the
// rows written for one instruction set (norm_rows.cpp, compiled once per instruction set with
// the attention kernels, as their sources are, and chosen by kernel_isa()). Internal to kernels/.
#pragma once

#include <cstdint>

#include "attn/kernels/norm_kernels.h"

namespace attn::kernels {

// Row i's row of r: i mod R, counted along from `begin` (a 64-bit division per row would cost
// as much as the row's arithmetic).
template <typename T>
struct PeriodicRows {
  const T* r;
  int64_t R, D, ri;
  PeriodicRows(const AddNormProblem<T>& p, int64_t begin) : r(p.r), R(p.R), D(p.D), ri(p.r ? begin % p.R : 0) {}
  /// The row of r for the current row (null without r); then moves on one row.
  const T* next() {
    if (!r) return nullptr;
    const T* row = r + ri * D;
    if (++ri == R) ri = 0;
    return row;
  }
};


namespace avx512 {

/// Rows [begin, end) of a float problem whose D is a multiple of 16, with AVX-512.
void add_norm_forward_rows(const AddNormProblem<float>& p, int64_t begin, int64_t end);
void add_norm_backward_rows(const AddNormProblem<float>& p, int64_t begin, int64_t end, float* dgamma, float* dbeta);

}  // namespace avx512

}  // namespace attn::kernels
