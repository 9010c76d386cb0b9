#include "attn/kernels/cross_entropy_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attn/kernels/blas.h"
#include "attn/kernels/isa_copies.h"

// exp_scalar of the attention kernels' element loops, compiled here into both copies of
// run_widest (isa_copies.h).
#define ATTN_KERNEL_ISA cross_entropy_rows
#include "attn/kernels/simd/exp.h"

namespace attn::kernels {

namespace {

namespace rows = cross_entropy_rows;

// One row of logits z (V) in, its loss out; z becomes its gradient when `gradient` (else scratch).
template <typename T>
ATTN_INLINE inline T row_loss(T* z, const T* b, int64_t V, int64_t y, T e, T scale, bool gradient, int64_t* argmax) {
  if (b) {
#pragma omp simd
    for (int64_t v = 0; v < V; ++v) z[v] += b[v];
  }
  // The loops are written out here (not exp.h's row helpers): inlined whole into each copy of
  // run_widest, they vectorise for its instruction set.
  T m = -std::numeric_limits<T>::infinity(), sum_z = 0;
#pragma omp simd reduction(max : m) reduction(+ : sum_z)
  for (int64_t v = 0; v < V; ++v) {
    m = z[v] > m ? z[v] : m;
    sum_z += z[v];
  }
  if (argmax) *argmax = std::find(z, z + V, m) - z;  // the first largest, as torch.argmax
  const T z_y = z[y];
  T s = 0;  // z is scratch: exp written in place with or without the gradient (the same sum)
#pragma omp simd reduction(+ : s)
  for (int64_t v = 0; v < V; ++v) {
    z[v] = rows::exp_scalar(z[v] - m);
    s += z[v];
  }
  const T lse = m + std::log(s);
  if (gradient) {
    const T a = scale / s, c = scale * e / T(V);
#pragma omp simd
    for (int64_t v = 0; v < V; ++v) z[v] = z[v] * a - c;
    z[y] -= scale * (T(1) - e);
  }
  return lse - (T(1) - e) * z_y - e * sum_z / T(V);
}

}  // namespace

int64_t cross_entropy_block_rows(int64_t V) {
  return std::clamp<int64_t>((int64_t(1) << 20) / std::max<int64_t>(V, 1) / 16 * 16, 16, 256);
}

template <typename T>
void linear_cross_entropy(const LinearCrossEntropyProblem<T>& p, int64_t begin, int64_t end, T* dw, T* db) {
  const int64_t D = p.D, V = p.V;
  std::vector<T> scratch(static_cast<size_t>(p.block * V));
  T* z = scratch.data();
  const bool gradient = p.dh != nullptr;
  for (int64_t k = begin; k < end; ++k) {
    const int64_t r0 = k * p.block, R = std::min(p.block, p.N - r0);
    const T* h = p.h + r0 * D;
    gemm<T>(false, true, R, V, D, T(1), h, D, p.w, D, T(0), z, V);        // (R, V) = h W^T
    for (int64_t i = 0; i < R; ++i) {
      const int64_t y = p.target[r0 + i];
      int64_t* am = p.argmax ? p.argmax + r0 + i : nullptr;
      T* row = z + i * V;
      T loss = 0;
      run_widest([&]() ATTN_INLINE { loss = row_loss(row, p.b, V, y, p.smoothing, p.scale, gradient, am); });
      p.loss[r0 + i] = loss;
    }
    if (!gradient) continue;
    gemm<T>(false, false, R, D, V, T(1), z, V, p.w, D, T(0), p.dh + r0 * D, D);  // (R, D) = dz W
    gemm<T>(true, false, V, D, R, T(1), z, V, h, D, T(1), dw, D);                // (V, D) += dz^T h
    if (db)
      for (int64_t i = 0; i < R; ++i) {
        const T* row = z + i * V;
#pragma omp simd
        for (int64_t v = 0; v < V; ++v) db[v] += row[v];
      }
  }
}

template void linear_cross_entropy<float>(const LinearCrossEntropyProblem<float>&, int64_t, int64_t, float*, float*);
template void linear_cross_entropy<double>(const LinearCrossEntropyProblem<double>&, int64_t, int64_t, double*,
                                           double*);

}  // namespace attn::kernels
