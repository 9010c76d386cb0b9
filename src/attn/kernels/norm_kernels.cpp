#include "attn/kernels/norm_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "attn/kernels/isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ATTN_NORM_AVX512 1
#endif

namespace attn::kernels {

namespace {

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

// Any width, any CPU: row by row, three passes over a row in cache (x + r and its sum; centring
// and the variance, as LibTorch computes it: of the centred values, not E[s^2] - mean^2; the
// output).
template <typename T>
void forward_rows(const AddNormProblem<T>& p, int64_t begin, int64_t end) {
  const int64_t D = p.D;
  std::vector<T> s(D);
  PeriodicRows<T> rows(p, begin);
  for (int64_t i = begin; i < end; ++i) {
    const T* x = p.x + i * D;
    const T* r = rows.next();
    T total = 0, var = 0;
    for (int64_t c = 0; c < D; ++c) s[c] = x[c] + (r ? r[c] : T(0)), total += s[c];
    const T mean = total / T(D);
    for (int64_t c = 0; c < D; ++c) s[c] -= mean, var += s[c] * s[c];
    const T rstd = T(1) / std::sqrt(var / T(D) + p.eps);
    p.rstd[i] = rstd;
    T* y = p.y + i * D;
    for (int64_t c = 0; c < D; ++c) y[c] = s[c] * rstd * p.gamma[c] + p.beta[c];
  }
}

// A row whose dy is all zero gets dx = 0 and adds nothing to dgamma and dbeta: written as zeros
// without reading x (max-pooling's gradient leaves most rows so: attn/ops/gradient_rows.h).
template <typename T>
void backward_rows(const AddNormProblem<T>& p, int64_t begin, int64_t end, T* dgamma, T* dbeta) {
  const int64_t D = p.D;
  std::vector<T> xhat(D), g(D);
  PeriodicRows<T> rows(p, begin);
  for (int64_t i = begin; i < end; ++i) {
    const T* x = p.x + i * D;
    const T* r = rows.next();
    const T* dy = p.dy + i * D;
    T* dx = p.dx + i * D;
    if (std::all_of(dy, dy + D, [](T v) { return v == T(0); })) {  // no gradient: dx = 0, adds nothing
      std::fill(dx, dx + D, T(0));
      continue;
    }
    const T rstd = p.rstd[i];
    T total = 0;
    for (int64_t c = 0; c < D; ++c) xhat[c] = x[c] + (r ? r[c] : T(0)), total += xhat[c];
    const T mean = total / T(D);
    T sum_g = 0, sum_gx = 0;
    for (int64_t c = 0; c < D; ++c) {
      xhat[c] = (xhat[c] - mean) * rstd;
      g[c] = dy[c] * p.gamma[c];                                           // d xhat
      sum_g += g[c], sum_gx += g[c] * xhat[c];
      dgamma[c] += dy[c] * xhat[c], dbeta[c] += dy[c];
    }
    const T mean_g = sum_g / T(D), mean_gx = sum_gx / T(D);
    for (int64_t c = 0; c < D; ++c) dx[c] = rstd * (g[c] - mean_g - xhat[c] * mean_gx);
  }
}

#ifdef ATTN_NORM_AVX512
// float rows whose width is a multiple of 16, on AVX-512: a row of d_model = 32 is two registers,
// each sum one horizontal reduction, and consecutive rows are independent, so the processor
// overlaps them. The plain loops above, compiled for any x86-64, are ~4x slower at that width:
// 4-lane vectors, and sums the compiler must keep in order. Same passes, same order of terms
// within a lane; the lanes are added pairwise.
#define ATTN_AVX512 __attribute__((target("avx512f,avx2,fma")))
// GCC 12 warns that the "undefined" operand inside its own reduction intrinsics may be used
// uninitialised; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

ATTN_AVX512 inline __m512 load_sum(const float* x, const float* r, int64_t c) {
  const __m512 v = _mm512_loadu_ps(x + c);
  return r ? _mm512_add_ps(v, _mm512_loadu_ps(r + c)) : v;
}

// The mean and rstd of row x (+ r).
ATTN_AVX512 inline void row_stats(const float* x, const float* r, int64_t D, float eps, float& mean,
                                  float& rstd) {
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

ATTN_AVX512 void forward_rows_avx512(const AddNormProblem<float>& p, int64_t begin, int64_t end) {
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

ATTN_AVX512 void backward_rows_avx512(const AddNormProblem<float>& p, int64_t begin, int64_t end, float* dgamma,
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

// The AVX-512 rows where they apply: float, a width that is a multiple of 16, and the kernels'
// instruction set (isa.h: ATTN_KERNEL_ISA / force_kernel_isa choose for these too).
bool use_avx512(const AddNormProblem<float>& p) { return p.D % 16 == 0 && kernel_isa() == Isa::Avx512; }
#endif

}  // namespace

template <typename T>
void add_norm_forward(const AddNormProblem<T>& p, int64_t begin, int64_t end) {
  const int64_t first = begin * p.block, last = std::min(p.N, end * p.block);
#ifdef ATTN_NORM_AVX512
  if constexpr (std::is_same_v<T, float>)
    if (use_avx512(p)) return forward_rows_avx512(p, first, last);
#endif
  forward_rows(p, first, last);
}

template <typename T>
void add_norm_backward(const AddNormProblem<T>& p, int64_t begin, int64_t end, T* dgamma, T* dbeta) {
  const int64_t first = begin * p.block, last = std::min(p.N, end * p.block);
#ifdef ATTN_NORM_AVX512
  if constexpr (std::is_same_v<T, float>)
    if (use_avx512(p)) return backward_rows_avx512(p, first, last, dgamma, dbeta);
#endif
  backward_rows(p, first, last, dgamma, dbeta);
}

template void add_norm_forward<float>(const AddNormProblem<float>&, int64_t, int64_t);
template void add_norm_forward<double>(const AddNormProblem<double>&, int64_t, int64_t);
template void add_norm_backward<float>(const AddNormProblem<float>&, int64_t, int64_t, float*, float*);
template void add_norm_backward<double>(const AddNormProblem<double>&, int64_t, int64_t, double*, double*);

}  // namespace attn::kernels
