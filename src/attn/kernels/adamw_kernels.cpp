#include "attn/kernels/adamw_kernels.h"

#include <cmath>
#include <cstring>

#include "attn/kernels/flash_kernels.h"

namespace attn::kernels {

namespace {

// LibTorch's order of operations, one element per lane; restrict pointers and local scalars so
// that the compiler keeps the scalars in registers and vectorises. Inlined into each version
// below and compiled there for its instruction set.
template <typename T>
__attribute__((always_inline)) inline void update_loop(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
  T* __restrict p = q.p;
  T* __restrict m = q.m;
  T* __restrict v = q.v;
  const T* __restrict g = q.g;
  const T decay = q.decays ? q.decay : T(1);  // p * 1 is p, bit for bit
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

template <typename T>
void update_baseline(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
  update_loop(q, begin, end);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define ATTN_ADAMW_AVX2 1
template <typename T>
__attribute__((target("avx2"))) void update_avx2(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
  update_loop(q, begin, end);
}

bool use_avx2() {
  const char* isa = nullptr;
  flash_kernels<float>(&isa);
  return isa && std::strcmp(isa, "generic") != 0;  // avx2, or avx512 (whose loop would be bound by memory too)
}
#endif

}  // namespace

template <typename T>
void adamw_update(const AdamWProblem<T>& q, int64_t begin, int64_t end) {
#ifdef ATTN_ADAMW_AVX2
  if (use_avx2()) return update_avx2(q, begin, end);
#endif
  update_baseline(q, begin, end);
}

template void adamw_update<float>(const AdamWProblem<float>&, int64_t, int64_t);
template void adamw_update<double>(const AdamWProblem<double>&, int64_t, int64_t);

}  // namespace attn::kernels
