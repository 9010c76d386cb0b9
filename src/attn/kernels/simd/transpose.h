// Transposing a key or value tile so that the score products run as plain (NN) products:
// element loops, and for float widths that are multiples of 16 a 16 x 16 register transpose
// (AVX-512). Included by the per-ISA kernel files only.
#pragma once

#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "attn/kernels/flash_kernels.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

// x (nj rows of width d, from row j0 of (b, h)) transposed into out (d x nj, leading dimension ld).
template <typename T>
void transpose_rows(const View4<const T>& x, int64_t b, int64_t h, int64_t j0, int64_t nj, int64_t d, T* out,
                    int64_t ld) {
  const T* first = x.row(b, h, j0);
  for (int64_t e = 0; e < d; ++e)  // stores in order, loads strided: cheaper than the other way round
    for (int64_t c = 0; c < nj; ++c) out[e * ld + c] = first[c * x.st + e];
}

#if defined(__AVX512F__)
#if defined(__GNUC__) && !defined(__clang__)  // as above: GCC 12's false alarm in its intrinsics
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The 16 x 16 floats of r transposed in registers (unpack, then 128-bit lane shuffles).
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
  }
}

// The float transpose in blocks of 16 x 16 (widths that are multiples of 16; the rows past the
// last whole block element by element): 3-4x faster than the loops above, which packing the
// key and value tiles made 5-8% of the attention kernel's time.
inline void transpose_rows(const View4<const float>& x, int64_t b, int64_t h, int64_t j0, int64_t nj, int64_t d,
                           float* out, int64_t ld) {
  const float* first = x.row(b, h, j0);
  int64_t c = 0;
  if (d % 16 == 0)
    for (; c + 16 <= nj; c += 16)
      for (int64_t e = 0; e < d; e += 16) {
        __m512 r[16];
        for (int l = 0; l < 16; ++l) r[l] = _mm512_loadu_ps(first + (c + l) * x.st + e);
        transpose16(r);
        for (int l = 0; l < 16; ++l) _mm512_storeu_ps(out + (e + l) * ld + c, r[l]);
      }
  for (int64_t e = 0; e < d; ++e)
    for (int64_t i = c; i < nj; ++i) out[e * ld + i] = first[i * x.st + e];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace attn::kernels::ATTN_KERNEL_ISA
