#include "attn/kernels/norm_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "attn/kernels/isa.h"
#include "attn/kernels/norm_rows.h"


namespace attn::kernels {

namespace {

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

#ifdef ATTN_HAVE_AVX512_KERNELS
// The AVX-512 rows (norm_rows.cpp) where they apply: float, a width that is a multiple of 16,
// and the kernels' instruction set (isa.h: ATTN_KERNEL_ISA / force_kernel_isa choose for these too).
bool use_avx512(const AddNormProblem<float>& p) { return p.D % 16 == 0 && kernel_isa() == Isa::Avx512; }
#endif

}  // namespace

template <typename T>
void add_norm_forward(const AddNormProblem<T>& p, int64_t begin, int64_t end) {
  const int64_t first = begin * p.block, last = std::min(p.N, end * p.block);
#ifdef ATTN_HAVE_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (use_avx512(p)) return avx512::add_norm_forward_rows(p, first, last);
#endif
  forward_rows(p, first, last);
}

template <typename T>
void add_norm_backward(const AddNormProblem<T>& p, int64_t begin, int64_t end, T* dgamma, T* dbeta) {
  const int64_t first = begin * p.block, last = std::min(p.N, end * p.block);
#ifdef ATTN_HAVE_AVX512_KERNELS
  if constexpr (std::is_same_v<T, float>)
    if (use_avx512(p)) return avx512::add_norm_backward_rows(p, first, last, dgamma, dbeta);
#endif
  backward_rows(p, first, last, dgamma, dbeta);
}

template void add_norm_forward<float>(const AddNormProblem<float>&, int64_t, int64_t);
template void add_norm_forward<double>(const AddNormProblem<double>&, int64_t, int64_t);
template void add_norm_backward<float>(const AddNormProblem<float>&, int64_t, int64_t, float*, float*);
template void add_norm_backward<double>(const AddNormProblem<double>&, int64_t, int64_t, double*, double*);

}  // namespace attn::kernels
