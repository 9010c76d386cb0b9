// The tiled attention kernels of flash_kernels.h, compiled once per instruction set: the build
// defines ATTN_KERNEL_ISA (generic, avx2, avx512) and the flags that go with it. The element
// loops are plain `omp simd` loops the compiler vectorises, with float versions in AVX-512
// intrinsics where that build has them (masked tails, the 16 x 16 transpose of a key or value
// tile); the tile products go to BLAS (attn/kernels/blas.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "attn/kernels/blas.h"
#include "attn/kernels/flash_kernels.h"
#include "attn/kernels/row_loops.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

namespace {

using attn::kernels::gemm;

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

template <typename T>
constexpr T kInf = std::numeric_limits<T>::infinity();

// Geometry of one problem: which keys a query sees, the tiles, the score tile's masks.
template <typename T>
struct Geometry {
  const FlashProblem<T>& p;
  int64_t offset;  // causal: query i sees keys j <= i + offset

  explicit Geometry(const FlashProblem<T>& p_) : p(p_), offset(p_.Tk - p_.Tq) {}

  /// Task (b, h, query tile) of the forward and dq passes: its coordinates and rows.
  struct QueryTask {
    int64_t b, h, bh, qt, i0, ni;
  };
  QueryTask query_task(int64_t task) const {
    const int64_t qt = task % p.q_tiles, bh = task / p.q_tiles;
    return {bh / p.H, bh % p.H, bh, qt, q_begin(qt), q_count(qt)};
  }

  int64_t q_begin(int64_t qt) const { return qt * p.q_tile; }
  int64_t q_count(int64_t qt) const { return std::min(p.q_tile, p.Tq - qt * p.q_tile); }
  int64_t k_begin(int64_t kt) const { return kt * p.k_tile; }
  int64_t k_count(int64_t kt) const { return std::min(p.k_tile, p.Tk - kt * p.k_tile); }

  /// Key tiles [0, end) that the queries [i0, i0 + n) may see.
  int64_t k_tiles_for(int64_t i0, int64_t n) const {
    if (!p.causal) return p.k_tiles;
    const int64_t last = i0 + n - 1 + offset;  // last key the last query sees
    return last < 0 ? 0 : std::min(p.k_tiles, last / p.k_tile + 1);
  }
  /// First query tile that sees any key of the tile starting at j0.
  int64_t first_q_tile_for(int64_t j0) const {
    if (!p.causal) return 0;
    return std::min(p.q_tiles, std::max<int64_t>(0, j0 - offset) / p.q_tile);
  }

  /// key_mask[c] = 0 for a key that takes part, -inf for padding: added to the scores.
  void key_mask(int64_t b, int64_t j0, int64_t nj, T* key_mask) const {
    if (!p.key_padding) {
      std::fill(key_mask, key_mask + nj, T(0));
      return;
    }
    const bool* pad = p.key_padding + b * p.Tk + j0;
    for (int64_t c = 0; c < nj; ++c) key_mask[c] = pad[c] ? -kInf<T> : T(0);
  }

  /// The score tile s (ni x nj, leading dimension ld) of queries i0.. and keys j0..:
  /// beta * q.k, then -inf where the key is padding or (causal) in the future. kt: the key
  /// tile transposed (D x nj, leading dimension ld), from Scratch::keys_t.
  void scores(int64_t b, int64_t h, int64_t i0, int64_t ni, int64_t j0, int64_t nj, const T* key_mask, const T* kt,
              T* s, int64_t ld) const {
    gemm<T>(false, false, ni, nj, p.D, p.beta, p.q.row(b, h, i0), p.q.st, kt, ld, T(0), s, ld);  // (ni, nj)
    for (int64_t r = 0; r < ni; ++r) {
      T* row = s + r * ld;
      if (p.key_padding)
        for (int64_t c = 0; c < nj; ++c) row[c] += key_mask[c];
      if (p.causal) {
        const int64_t first_hidden = std::max<int64_t>(0, i0 + r + offset + 1 - j0);
        for (int64_t c = first_hidden; c < nj; ++c) row[c] = -kInf<T>;
      }
    }
  }
};

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

// Per-thread scratch, sized for one tile.
template <typename T>
struct Scratch {
  std::vector<T> s, dp, acc, m, l, best, key_mask, kt, vt;
  std::vector<int64_t> idx;
  int64_t kt_of = -1, vt_of = -1;  // which (b, h, key tile) kt and vt hold
  explicit Scratch(const FlashProblem<T>& p)
      : s(p.q_tile * p.k_tile), dp(p.q_tile * p.k_tile), acc(p.q_tile * std::max(p.Dv, int64_t(1))),
        m(p.q_tile), l(p.q_tile), best(p.q_tile), key_mask(p.k_tile), kt(p.D * p.k_tile), vt(p.Dv * p.k_tile), idx(p.q_tile) {}

  // Key tile `tile` of (b, h) transposed (D x nj, leading dimension k_tile), packed once per
  // tile and reused by the query tiles that follow: the score product then runs as a plain
  // (NN) product, which OpenBLAS's small-matrix kernels take ~25% faster than q k^T.
  const T* keys_t(const FlashProblem<T>& p, int64_t b, int64_t h, int64_t tile, int64_t j0, int64_t nj) {
    const int64_t tag = (b * p.H + h) * p.k_tiles + tile;
    if (kt_of != tag) transpose_rows(p.k, b, h, j0, nj, p.D, kt.data(), p.k_tile), kt_of = tag;
    return kt.data();
  }
  /// The same for the values (Dv x nj): dP = dO V^T.
  const T* values_t(const FlashProblem<T>& p, int64_t b, int64_t h, int64_t tile, int64_t j0, int64_t nj) {
    const int64_t tag = (b * p.H + h) * p.k_tiles + tile;
    if (vt_of != tag) transpose_rows(p.v, b, h, j0, nj, p.Dv, vt.data(), p.k_tile), vt_of = tag;
    return vt.data();
  }
};

template <typename T>
void forward(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  Scratch<T> w(p);
  const int64_t ld = p.k_tile;
  for (int64_t task = begin; task < end; ++task) {
    const auto [b, h, bh, qt, i0, ni] = g.query_task(task);
    std::fill(w.m.begin(), w.m.end(), -kInf<T>);
    std::fill(w.l.begin(), w.l.end(), T(0));
    std::fill(w.best.begin(), w.best.end(), -kInf<T>);
    std::fill(w.idx.begin(), w.idx.end(), int64_t(-1));
    const int64_t kt_end = g.k_tiles_for(i0, ni);
    for (int64_t kt = 0; kt < kt_end; ++kt) {
      const bool first = kt == 0;  // nothing summed yet: no rescaling, and acc is written, not added to
      const int64_t j0 = g.k_begin(kt), nj = g.k_count(kt);
      g.key_mask(b, j0, nj, w.key_mask.data());
      g.scores(b, h, i0, ni, j0, nj, w.key_mask.data(), w.keys_t(p, b, h, kt, j0, nj), w.s.data(), ld);
      for (int64_t r = 0; r < ni; ++r) {
        T* row = w.s.data() + r * ld;
        if (p.hard)  // the first maximal key wins ties, as torch::argmax
          for (int64_t c = 0; c < nj; ++c)
            if (row[c] > w.best[r]) w.best[r] = row[c], w.idx[r] = j0 + c;
        if (!p.soft_stats) continue;
        const T m_new = std::max(w.m[r], row_max(row, nj));
        if (m_new == -kInf<T>) {  // no key seen yet
          std::fill(row, row + nj, T(0));
          continue;
        }
        const T alpha = first ? T(0) : exp_scalar(w.m[r] - m_new);  // rescales what was summed so far
        w.l[r] = w.l[r] * alpha + exp_shifted_sum(row, nj, m_new);  // row = P = exp(s - m_new)
        if (!first && alpha != T(1)) {
          T* a = w.acc.data() + r * p.Dv;
          for (int64_t c = 0; c < p.Dv; ++c) a[c] *= alpha;
        }
        w.m[r] = m_new;
      }
      if (p.soft_stats)  // acc (ni x Dv) (+)= P (ni x nj) V (nj x Dv)
        gemm<T>(false, false, ni, p.Dv, nj, T(1), w.s.data(), ld, p.v.row(b, h, j0), p.v.st, first ? T(0) : T(1),
                w.acc.data(), p.Dv);
    }
    T* lse = p.lse ? p.lse + bh * p.Tq + i0 : nullptr;
    for (int64_t r = 0; r < ni; ++r) {
      if (p.soft_stats) {
        T* o = (p.hard ? p.out_soft : p.out).row(b, h, i0 + r);
        const T* a = w.acc.data() + r * p.Dv;
        if (w.l[r] == T(0)) {  // the query sees no key: output 0, lse +inf (weights 0 in backward)
          std::fill(o, o + p.Dv, T(0));
          lse[r] = kInf<T>;
        } else {
          const T inv = T(1) / w.l[r];
          for (int64_t c = 0; c < p.Dv; ++c) o[c] = a[c] * inv;
          lse[r] = w.m[r] + std::log(w.l[r]);
        }
      }
      if (p.hard) {
        T* o = p.out.row(b, h, i0 + r);
        const int64_t j = w.idx[r];
        if (j < 0) std::fill(o, o + p.Dv, T(0));
        else std::copy(p.v.row(b, h, j), p.v.row(b, h, j) + p.Dv, o);
        p.argmax[bh * p.Tq + i0 + r] = j;
      }
    }
  }
}

// drow = rowsum(dO * O) of the queries [i0, i0 + n) of (b, h).
template <typename T>
void output_dots(const FlashProblem<T>& p, int64_t b, int64_t h, int64_t i0, int64_t n) {
  const View4<T>& o = p.hard ? p.out_soft : p.out;
  T* drow = p.drow + (b * p.H + h) * p.Tq;
  for (int64_t i = i0; i < i0 + n; ++i) drow[i] = row_dot<T>(p.dout.row(b, h, i), o.row(b, h, i), p.Dv);
}

template <typename T>
void backward_prepare(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  for (int64_t task = begin; task < end; ++task) {
    const auto [b, h, bh, qt, i0, ni] = g.query_task(task);
    output_dots(p, b, h, i0, ni);
  }
}

// The tile's P = exp(S - lse) into s and dS = P * (dP - drow) into dp, dP = dO V^T.
template <typename T>
void score_gradient(const FlashProblem<T>& p, const Geometry<T>& g, Scratch<T>& w, int64_t b, int64_t h,
                    int64_t i0, int64_t ni, int64_t kt, int64_t j0, int64_t nj) {
  const int64_t ld = p.k_tile;
  const int64_t bh = b * p.H + h;
  const T* lse = p.lse + bh * p.Tq + i0;
  g.scores(b, h, i0, ni, j0, nj, w.key_mask.data(), w.keys_t(p, b, h, kt, j0, nj), w.s.data(), ld);
  if (!p.soft_stats) {  // P only
    for (int64_t r = 0; r < ni; ++r) exp_shifted(w.s.data() + r * ld, nj, lse[r]);
    return;
  }
  // dp (ni x nj) = dO (ni x Dv) V^T (Dv x nj)
  gemm<T>(false, false, ni, nj, p.Dv, T(1), p.dout.row(b, h, i0), p.dout.st, w.values_t(p, b, h, kt, j0, nj), ld,
          T(0), w.dp.data(), ld);
  const T* drow = p.drow + bh * p.Tq + i0;
  for (int64_t r = 0; r < ni; ++r) exp_times_shifted(w.s.data() + r * ld, w.dp.data() + r * ld, nj, lse[r], drow[r]);
}

template <typename T>
void zero_rows(const View4<T>& x, int64_t b, int64_t h, int64_t i0, int64_t n, int64_t width) {
  for (int64_t r = 0; r < n; ++r) std::fill(x.row(b, h, i0 + r), x.row(b, h, i0 + r) + width, T(0));
}

// dk and dv of key tile kt of (b, h), written straight into their rows: the first query tile's
// products overwrite (beta 0), the others add. With dq_too, also this tile's part of dq, which
// key tile 0 overwrites when every query tile sees it (dq_from_zero false) and adds to
// otherwise (the caller zeroed dq).
template <typename T>
void backward_key_tile(const FlashProblem<T>& p, const Geometry<T>& g, Scratch<T>& w, int64_t b, int64_t h,
                       int64_t kt, bool dq_too, bool dq_zeroed) {
  const int64_t ld = p.k_tile, j0 = g.k_begin(kt), nj = g.k_count(kt);
  T* dk = p.dk.row(b, h, j0);
  T* dv = p.dv.row(b, h, j0);
  bool first = true;  // no query tile has written dk and dv yet
  const bool any = !p.hard || p.soft_stats;
  if (any) {
    g.key_mask(b, j0, nj, w.key_mask.data());
    for (int64_t qt = g.first_q_tile_for(j0); qt < p.q_tiles; ++qt) {
      const int64_t i0 = g.q_begin(qt), ni = g.q_count(qt);
      const T keep = first ? T(0) : T(1);
      score_gradient(p, g, w, b, h, i0, ni, kt, j0, nj);
      if (!p.hard)  // dv (nj x Dv) += P^T (nj x ni) dO (ni x Dv)
        gemm<T>(true, false, nj, p.Dv, ni, T(1), w.s.data(), ld, p.dout.row(b, h, i0), p.dout.st, keep, dv,
                p.dv.st);
      if (dq_too)  // dq (ni x D) += beta dS (ni x nj) K (nj x D)
        gemm<T>(false, false, ni, p.D, nj, p.beta, w.dp.data(), ld, p.k.row(b, h, j0), p.k.st,
                kt == 0 && !dq_zeroed ? T(0) : T(1), p.dq.row(b, h, i0), p.dq.st);
      // dk (nj x D) += beta dS^T (nj x ni) Q (ni x D)
      gemm<T>(true, false, nj, p.D, ni, p.beta, w.dp.data(), ld, p.q.row(b, h, i0), p.q.st, keep, dk, p.dk.st);
      first = false;
    }
  }
  if (first) zero_rows(p.dk, b, h, j0, nj, p.D);  // no query sees these keys
  if (first || p.hard) zero_rows(p.dv, b, h, j0, nj, p.Dv);
  if (p.hard) {  // the one-hot weights send each query's gradient to its chosen value
    const int64_t* chosen = p.argmax + (b * p.H + h) * p.Tq;
    for (int64_t i = 0; i < p.Tq; ++i) {
      const int64_t j = chosen[i];
      if (j < j0 || j >= j0 + nj) continue;
      const T* d = p.dout.row(b, h, i);
      T* out = p.dv.row(b, h, j);
      for (int64_t c = 0; c < p.Dv; ++c) out[c] += d[c];
    }
  }
}

// The rows of a (b, h) whose queries have a gradient, gathered: the problem they make.
template <typename T>
struct Gathered {
  std::vector<int64_t> rows;
  std::vector<T> q, dout, dq, lse, drow;
  explicit Gathered(const FlashProblem<T>& p)
      : rows(p.Tq), q(p.Tq * p.D), dout(p.Tq * p.Dv), dq(p.Tq * p.D), lse(p.Tq), drow(p.Tq) {}
};

// Backward of (b, h) over the n queries in g.rows only. A query whose output gradient is zero adds
// nothing to dk and dv (its dS row is P * (0 - 0)) and has dq = 0, and such rows are common:
// max-pooling over the set sends each feature's gradient to one element (the notebook's classifier:
// at most d_model of its 200 rows per set), a loss's padded targets send none, and the zero rows
// stay zero back through the layer norms, the feed-forward and the output projection. So the
// products run on the gathered rows: ~1/6 of the work for the notebook's model. Soft, non-causal
// attention (a query's causal mask depends on its position, which gathering would lose).
template <typename T>
void backward_gathered(const FlashProblem<T>& p, Scratch<T>& w, Gathered<T>& gr, int64_t b, int64_t h, int64_t n) {
  const int64_t bh = b * p.H + h;
  zero_rows(p.dq, b, h, 0, p.Tq, p.D);
  if (n == 0) {  // no query has a gradient: none reaches the keys or values either
    zero_rows(p.dk, b, h, 0, p.Tk, p.D);
    zero_rows(p.dv, b, h, 0, p.Tk, p.Dv);
    return;
  }
  for (int64_t r = 0; r < n; ++r) {
    const int64_t i = gr.rows[r];
    std::copy(p.q.row(b, h, i), p.q.row(b, h, i) + p.D, gr.q.data() + r * p.D);
    std::copy(p.dout.row(b, h, i), p.dout.row(b, h, i) + p.Dv, gr.dout.data() + r * p.Dv);
    gr.lse[r] = p.lse[bh * p.Tq + i];
    gr.drow[r] = row_dot<T>(p.dout.row(b, h, i), p.out.row(b, h, i), p.Dv);
  }
  FlashProblem<T> s = p;  // one (b, h), n queries; keys, values, dk and dv in place
  s.B = 1, s.H = 1, s.Tq = n;
  s.key_padding = p.key_padding ? p.key_padding + b * p.Tk : nullptr;
  s.q = {gr.q.data(), 0, 0, p.D};
  s.dout = {gr.dout.data(), 0, 0, p.Dv};
  s.dq = {gr.dq.data(), 0, 0, p.D};
  s.k = {p.k.row(b, h, 0), 0, 0, p.k.st};
  s.v = {p.v.row(b, h, 0), 0, 0, p.v.st};
  s.dk = {p.dk.row(b, h, 0), 0, 0, p.dk.st};
  s.dv = {p.dv.row(b, h, 0), 0, 0, p.dv.st};
  s.lse = gr.lse.data(), s.drow = gr.drow.data();
  s.q_tiles = (n + p.q_tile - 1) / p.q_tile;  // tiles no larger than the scratch's
  s.q_tile = (n + s.q_tiles - 1) / s.q_tiles;
  w.kt_of = w.vt_of = -1;  // the sub-problem's tile tags would alias the full problem's
  const Geometry<T> g(s);
  for (int64_t kt = 0; kt < s.k_tiles; ++kt) backward_key_tile(s, g, w, 0, 0, kt, /*dq_too=*/true, false);
  w.kt_of = w.vt_of = -1;
  for (int64_t r = 0; r < n; ++r)
    std::copy(gr.dq.data() + r * p.D, gr.dq.data() + (r + 1) * p.D, p.dq.row(b, h, gr.rows[r]));
}

template <typename T>
void backward_fused(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  Scratch<T> w(p);
  const bool may_gather = p.skip_zero_rows && p.soft_stats && !p.hard && !p.causal;
  std::unique_ptr<Gathered<T>> gr;
  if (may_gather) gr = std::make_unique<Gathered<T>>(p);
  for (int64_t bh = begin; bh < end; ++bh) {
    const int64_t b = bh / p.H, h = bh % p.H;
    if (may_gather) {  // few queries with a gradient (at most 3/4): the products over those alone
      const int64_t limit = 3 * p.Tq / 4;
      const int64_t n = nonzero_rows(p.dout.row(b, h, 0), p.Tq, p.Dv, p.dout.st, limit, gr->rows.data());
      if (n <= limit) {
        backward_gathered(p, w, *gr, b, h, n);
        continue;
      }
    }
    if (p.soft_stats) output_dots(p, b, h, 0, p.Tq);  // this (b, h)'s drow, while its rows are needed next
    // Key tile 0 writes dq when every query tile sees it (not so when causal with Tq > Tk).
    const bool dq_zeroed = p.soft_stats && g.first_q_tile_for(0) > 0;
    if (dq_zeroed) zero_rows(p.dq, b, h, 0, p.Tq, p.D);
    for (int64_t kt = 0; kt < p.k_tiles; ++kt)
      backward_key_tile(p, g, w, b, h, kt, /*dq_too=*/p.soft_stats, dq_zeroed);
  }
}

template <typename T>
void backward_dkdv(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  Scratch<T> w(p);
  for (int64_t task = begin; task < end; ++task) {
    const int64_t kt = task % p.k_tiles, bh = task / p.k_tiles;
    backward_key_tile(p, g, w, bh / p.H, bh % p.H, kt, /*dq_too=*/false, /*dq_zeroed=*/false);
  }
}

template <typename T>
void backward_dq(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  Scratch<T> w(p);
  const int64_t ld = p.k_tile;
  for (int64_t task = begin; task < end; ++task) {
    const auto [b, h, bh, qt, i0, ni] = g.query_task(task);
    zero_rows(p.dq, b, h, i0, ni, p.D);
    if (!p.soft_stats) continue;
    // The same tiles in the same order as backward_fused: the same sums, bit for bit.
    const int64_t kt_end = g.k_tiles_for(i0, ni);
    for (int64_t kt = 0; kt < kt_end; ++kt) {
      const int64_t j0 = g.k_begin(kt), nj = g.k_count(kt);
      if (g.first_q_tile_for(j0) > qt) continue;
      g.key_mask(b, j0, nj, w.key_mask.data());
      score_gradient(p, g, w, b, h, i0, ni, kt, j0, nj);
      gemm<T>(false, false, ni, p.D, nj, p.beta, w.dp.data(), ld, p.k.row(b, h, j0), p.k.st, T(1),
              p.dq.row(b, h, i0), p.dq.st);
    }
  }
}

template <typename T>
const FlashKernels<T> kTable = {&forward<T>, &backward_prepare<T>, &backward_fused<T>, &backward_dkdv<T>,
                                &backward_dq<T>};

}  // namespace

template <typename T>
const FlashKernels<T>& table() {
  return kTable<T>;
}
template const FlashKernels<float>& table<float>();
template const FlashKernels<double>& table<double>();

}  // namespace attn::kernels::ATTN_KERNEL_ISA
