#include "attn/kernels/adamw_kernels.h"

#include <cmath>

#include "attn/kernels/isa_copies.h"

namespace attn::kernels {

namespace {

// LibTorch's order of operations, one element per lane; restrict pointers and local scalars so
// that the compiler keeps the scalars in registers and vectorises. Inlined into a baseline and an
// AVX2 copy (isa_copies.h).
template <typename T>
ATTN_INLINE inline void update_loop(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
  T* __restrict p = q.p;
  T* __restrict m = q.m;
  T* __restrict v = q.v;
  const T* __restrict g = q.g;
  const T decay = q.decay;  // without weight decay exactly 1, and p * 1 is p, bit for bit
  const T b1 = q.beta1, a1 = q.one_minus_beta1, b2 = q.beta2, a2 = q.one_minus_beta2;
  const T irb = q.inv_root_bc2, eps = q.eps, ns = q.neg_step;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const T x = p[i] * decay;
    const T mi = m[i] * b1 + a1 * g[i];
    const T vi = v[i] * b2 + a2 * g[i] * g[i];
    const T denom = std::sqrt(vi) * irb + eps;
    m[i] = mi;
    v[i] = vi;
    p[i] = x + ns * mi / denom;
  }
}

}  // namespace

template <typename T>
void adamw_update(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
  run_widest([&]() ATTN_INLINE { update_loop(q, begin, end); });
}

template void adamw_update<float>(const AdamWProblem<float>&, int64_t, int64_t);
template void adamw_update<double>(const AdamWProblem<double>&, int64_t, int64_t);

}  // namespace attn::kernels
