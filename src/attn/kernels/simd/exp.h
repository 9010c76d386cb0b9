// The attention kernels' element loops (flash/), compiled once per instruction set: exp, the
// row maxima and sums, and the score gradient's element step, as plain `omp simd` loops the
// compiler vectorises, with float versions in AVX-512 intrinsics (masked tails, a table exp)
// where the build has them. Included by the per-ISA kernel files only.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

constexpr float kExpLow = -87.3365478515625f;  // below: exp underflows; returns exactly 0

// exp for float, vectorisable: 2^n * p(r) with r = x - n ln 2 (Cephes' expf polynomial, ~1 ulp).
// -inf and anything below kExpLow give exactly 0; NaN stays NaN. Arguments here are <= 0.
inline float exp_scalar(float x) {
  const float xc = x < kExpLow ? kExpLow : (x > 88.0f ? 88.0f : x);
  float n = xc * 1.44269504088896341f;
  n = (n + 12582912.0f) - 12582912.0f;  // round to nearest integer
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < kExpLow ? 0.0f : y * scale;
}
inline double exp_scalar(double x) { return std::exp(x); }

// The row reductions below are `omp simd` loops (the build passes -fopenmp-simd): lanes of
// partial results, combined at the end, in a fixed order for a given build.
template <typename T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t c = 0; c < n; ++c) m = x[c] > m ? x[c] : m;
  return m;
}

template <typename T>
T row_dot(const T* x, const T* y, int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < n; ++c) s += x[c] * y[c];
  return s;
}

// x[c] = exp(x[c] - shift), in place; returns the sum of the new x.
template <typename T>
T exp_shifted_sum(T* x, int64_t n, T shift) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t c = 0; c < n; ++c) {
    x[c] = exp_scalar(x[c] - shift);
    s += x[c];
  }
  return s;
}

// x[c] = exp(x[c] - shift), in place.
template <typename T>
void exp_shifted(T* x, int64_t n, T shift) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) x[c] = exp_scalar(x[c] - shift);
}

// The score gradient's element step, in place: P = exp(S - shift) into x, and dS = P * (dP - d)
// into dr (which holds dP). One pass: the two were ~20% slower as separate passes.
template <typename T>
void exp_times_shifted(T* x, T* dr, int64_t n, T shift, T d) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) {
    const T e = exp_scalar(x[c] - shift);
    x[c] = e;
    dr[c] = e * (dr[c] - d);
  }
}

#if defined(__AVX512F__)
// The float element loops again, written for AVX-512: 16 lanes, the tail under a mask (the plain
// loops above leave a scalar tail, which for rows of 200 keys cost as much as the vector part),
// 2^n applied by scalef, and one horizontal reduction per row.
// GCC 12 warns that the "undefined" pass-through operand inside some of its own intrinsics
// (roundscale, scalef, the reductions) may be used uninitialised; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1); }

// exp of 16 lanes: 2^(n/16) from a 16-entry table times a degree-3 polynomial of the remainder
// r = x - n ln2/16 (|r| <= ln2/32, where the polynomial's error is ~1e-8); max relative error
// 1.6e-7 (~1.4 ulp) against exp in double over [-87, 0]. ~30% faster than exp_scalar's
// degree-6 polynomial over [-ln2/2, ln2/2] (11 multiply-adds per lane; this takes 7), which was
// the attention kernels' largest cost after the products. n is read from the low bits of
// x * 16/ln2 + 1.5 * 2^23 (round to nearest): its last 4 bits pick the table entry (the
// permute uses only those), and n << 19 adds floor(n/16) to the exponent once the table's
// entries have i << 19 taken out. Lanes below kExpLow (and -inf) give 0; NaN stays NaN.
alignas(64) constexpr float kExp2Sixteenths[16] = {  // 2^(i/16), rounded to float
    0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fe0p+0f, 0x1.3dea64p+0f,
    0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};

inline __m512 exp16(__m512 x) {
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(23.083120346069336f), magic);  // 16/ln2
  const __m512 n = _mm512_sub_ps(t, magic);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e0p-5f), x);  // ln2/16 in two parts; n * hi exact
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.9966364561696537e-06f), r);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 6), r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));  // e^r
  const __m512i bits = _mm512_castps_si512(t);
  const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i table =
      _mm512_sub_epi32(_mm512_castps_si512(_mm512_load_ps(kExp2Sixteenths)), _mm512_slli_epi32(iota, 19));
  const __m512i scale =
      _mm512_add_epi32(_mm512_permutexvar_epi32(bits, table), _mm512_slli_epi32(bits, 19));  // 2^(n/16)
  const __m512 y = _mm512_mul_ps(_mm512_castsi512_ps(scale), p);
  const __mmask16 low = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpLow), _CMP_LT_OQ);
  return _mm512_mask_blend_ps(low, y, _mm512_setzero_ps());
}

// Four running maxima: one would make a chain of dependent max operations along the row.
inline float row_max(const float* x, int64_t n) {
  const __m512 low = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 m0 = low, m1 = low, m2 = low, m3 = low;
  int64_t c = 0;
  for (; c + 64 <= n; c += 64) {
    m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + c));
    m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + c + 16));
    m2 = _mm512_max_ps(m2, _mm512_loadu_ps(x + c + 32));
    m3 = _mm512_max_ps(m3, _mm512_loadu_ps(x + c + 48));
  }
  for (; c < n; c += 16) m0 = _mm512_mask_max_ps(m0, tail_mask(n - c), m0, _mm512_maskz_loadu_ps(tail_mask(n - c), x + c));
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

inline float exp_shifted_sum(float* x, int64_t n, float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  __m512 s = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + c), sh));
    _mm512_storeu_ps(x + c, e);
    s = _mm512_add_ps(s, e);
  }
  if (c < n) {
    const __mmask16 k = tail_mask(n - c);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + c), sh));
    _mm512_mask_storeu_ps(x + c, k, e);
    s = _mm512_mask_add_ps(s, k, s, e);
  }
  return _mm512_reduce_add_ps(s);
}

inline void exp_shifted(float* x, int64_t n, float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 k = tail_mask(n - c);
    _mm512_mask_storeu_ps(x + c, k, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + c), sh)));
  }
}

inline void exp_times_shifted(float* x, float* dr, int64_t n, float shift, float d) {
  const __m512 sh = _mm512_set1_ps(shift), dv = _mm512_set1_ps(d);
  int64_t c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + c), sh));
    _mm512_storeu_ps(x + c, e);
    _mm512_storeu_ps(dr + c, _mm512_mul_ps(e, _mm512_sub_ps(_mm512_loadu_ps(dr + c), dv)));
  }
  if (c < n) {
    const __mmask16 k = tail_mask(n - c);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + c), sh));
    _mm512_mask_storeu_ps(x + c, k, e);
    _mm512_mask_storeu_ps(dr + c, k, _mm512_mul_ps(e, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, dr + c), dv)));
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace attn::kernels::ATTN_KERNEL_ISA
