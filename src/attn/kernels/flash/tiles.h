// The tiles of one attention problem: which keys a query sees, the tile grid, the score tile
// with its masks (Geometry), and each thread's scratch for one tile (Scratch).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "attn/kernels/blas.h"
#include "attn/kernels/flash_kernels.h"
#include "attn/kernels/simd/transpose.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

using attn::kernels::gemm;

template <typename T>
inline constexpr T kInf = std::numeric_limits<T>::infinity();

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
    gemm_strict<T>(false, false, ni, nj, p.D, p.beta, p.q.row(b, h, i0), p.q.st, kt, ld, T(0), s, ld);  // (ni, nj)
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

}  // namespace attn::kernels::ATTN_KERNEL_ISA
