// Add & LayerNorm's rows written for one instruction set (norm_rows.h). Compiled once per
// instruction set with the attention kernels (src/CMakeLists.txt, attn_kernel_variant), with that
// set's compiler flags; only AVX-512 has rows of its own so far, the other sets use the plain
// loops of norm_kernels.cpp.
#include "attn/kernels/norm_rows.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include <cmath>

namespace attn::kernels::ATTN_KERNEL_ISA {

namespace {

// float rows whose width is a multiple of 16, on AVX-512: a row of d_model = 32 is two registers,
// each sum one horizontal reduction, and consecutive rows are independent, so the processor
// overlaps them. The plain loops of norm_kernels.cpp, compiled for any x86-64, are ~4x slower at that width:
// 4-lane vectors, and sums the compiler must keep in order. Same passes, same order of terms
// within a lane; the lanes are added pairwise.
// GCC 12 warns that the "undefined" operand inside its own reduction intrinsics may be used
// uninitialised; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

inline __m512 load_sum(const float* x, const float* r, int64_t c) {
  const __m512 v = _mm512_loadu_ps(x + c);
  return r ? _mm512_add_ps(v, _mm512_loadu_ps(r + c)) : v;
}

// The mean and rstd of row x (+ r).
inline void row_stats(const float* x, const float* r, int64_t D, float eps, float& mean, float& rstd) {
  __m512 total = _mm512_setzero_ps();
  for (int64_t c = 0; c < D; c += 16) total = _mm512_add_ps(total, load_sum(x, r, c));
  mean = _mm512_reduce_add_ps(total) / float(D);
  const __m512 m = _mm512_set1_ps(mean);
  __m512 var = _mm512_setzero_ps();
  for (int64_t c = 0; c < D; c += 16) {
    const __m512 d = _mm512_sub_ps(load_sum(x, r, c), m);
    var = _mm512_fmadd_ps(d, d, var);
  }
  rstd = 1.0f / std::sqrt(_mm512_reduce_add_ps(var) / float(D) + eps);
}

}  // namespace

void add_norm_forward_rows(const AddNormProblem<float>& p, int64_t begin, int64_t end) {
  const int64_t D = p.D;
  PeriodicRows<float> rows(p, begin);
  for (int64_t i = begin; i < end; ++i) {
    const float* x = p.x + i * D;
    const float* r = rows.next();
    float mean, rstd;
    row_stats(x, r, D, p.eps, mean, rstd);
    p.rstd[i] = rstd;
    const __m512 m = _mm512_set1_ps(mean), rs = _mm512_set1_ps(rstd);
    for (int64_t c = 0; c < D; c += 16) {
      const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load_sum(x, r, c), m), rs);
      _mm512_storeu_ps(p.y + i * D + c,
                       _mm512_fmadd_ps(xhat, _mm512_loadu_ps(p.gamma + c), _mm512_loadu_ps(p.beta + c)));
    }
  }
}

void add_norm_backward_rows(const AddNormProblem<float>& p, int64_t begin, int64_t end, float* dgamma,
                                      float* dbeta) {
  const int64_t D = p.D;
  PeriodicRows<float> rows(p, begin);
  for (int64_t i = begin; i < end; ++i) {
    const float* x = p.x + i * D;
    const float* r = rows.next();
    const float* dy = p.dy + i * D;
    __mmask16 nonzero = 0;
    for (int64_t c = 0; c < D; c += 16)
      nonzero |= _mm512_cmp_ps_mask(_mm512_loadu_ps(dy + c), _mm512_setzero_ps(), _CMP_NEQ_UQ);  // NaN counts
    if (!nonzero) {  // no gradient: dx = 0, adds nothing (most rows under max-pooling)
      for (int64_t c = 0; c < D; c += 16) _mm512_storeu_ps(p.dx + i * D + c, _mm512_setzero_ps());
      continue;
    }
    __m512 total = _mm512_setzero_ps();
    for (int64_t c = 0; c < D; c += 16) total = _mm512_add_ps(total, load_sum(x, r, c));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_add_ps(total) / float(D)), rs = _mm512_set1_ps(p.rstd[i]);
    __m512 sum_g = _mm512_setzero_ps(), sum_gx = _mm512_setzero_ps();
    for (int64_t c = 0; c < D; c += 16) {
      const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load_sum(x, r, c), m), rs);
      const __m512 d = _mm512_loadu_ps(dy + c);
      const __m512 g = _mm512_mul_ps(d, _mm512_loadu_ps(p.gamma + c));  // d xhat
      sum_g = _mm512_add_ps(sum_g, g);
      sum_gx = _mm512_fmadd_ps(g, xhat, sum_gx);
      _mm512_storeu_ps(dgamma + c, _mm512_fmadd_ps(d, xhat, _mm512_loadu_ps(dgamma + c)));
      _mm512_storeu_ps(dbeta + c, _mm512_add_ps(d, _mm512_loadu_ps(dbeta + c)));
    }
    const __m512 mean_g = _mm512_set1_ps(_mm512_reduce_add_ps(sum_g) / float(D));
    const __m512 mean_gx = _mm512_set1_ps(_mm512_reduce_add_ps(sum_gx) / float(D));
    for (int64_t c = 0; c < D; c += 16) {  // dx = rstd (g - mean_g - xhat mean_gx)
      const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load_sum(x, r, c), m), rs);
      const __m512 g = _mm512_mul_ps(_mm512_loadu_ps(dy + c), _mm512_loadu_ps(p.gamma + c));
      const __m512 v = _mm512_fnmadd_ps(xhat, mean_gx, _mm512_sub_ps(g, mean_g));
      _mm512_storeu_ps(p.dx + i * D + c, _mm512_mul_ps(rs, v));
    }
  }
}


#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace attn::kernels::ATTN_KERNEL_ISA
#endif
