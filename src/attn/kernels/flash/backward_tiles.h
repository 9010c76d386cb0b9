// The steps the backward passes share (backward.cpp, backward_gathered.cpp): the row dots of
// dO and O, a tile's score gradient, and dk, dv (and dq) of one key tile.
#pragma once

#include <cstdint>

#include "attn/kernels/flash/tiles.h"
#include "attn/kernels/simd/exp.h"
#include "attn/kernels/simd/transpose.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

// drow = rowsum(dO * O) of the queries [i0, i0 + n) of (b, h).
template <typename T>
void output_dots(const FlashProblem<T>& p, int64_t b, int64_t h, int64_t i0, int64_t n) {
  const View4<T>& o = p.hard ? p.out_soft : p.out;
  T* drow = p.drow + (b * p.H + h) * p.Tq;
  for (int64_t i = i0; i < i0 + n; ++i) drow[i] = row_dot<T>(p.dout.row(b, h, i), o.row(b, h, i), p.Dv);
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
  gemm_strict<T>(false, false, ni, nj, p.Dv, T(1), p.dout.row(b, h, i0), p.dout.st, w.values_t(p, b, h, kt, j0, nj), ld,
          T(0), w.dp.data(), ld);
  const T* drow = p.drow + bh * p.Tq + i0;
  for (int64_t r = 0; r < ni; ++r) exp_times_shifted(w.s.data() + r * ld, w.dp.data() + r * ld, nj, lse[r], drow[r]);
}

template <typename T>
void zero_rows(const View4<T>& x, int64_t b, int64_t h, int64_t i0, int64_t n, int64_t width) {
  for (int64_t r = 0; r < n; ++r) std::fill(x.row(b, h, i0 + r), x.row(b, h, i0 + r) + width, T(0));
}

// What backward_key_tile does with dq: nothing (another pass computes it), or add this key
// tile's part, key tile 0 overwriting what is there (every query tile sees it) or adding to rows
// the caller zeroed (causal with more queries than keys: the first query tiles see no key tile 0).
enum class DqPart { None, KeyTile0Writes, AddToZeroed };

// dk and dv of key tile kt of (b, h), written straight into their rows: the first query tile's
// products overwrite (beta 0), the others add; and this tile's part of dq as `dq` says.
template <typename T>
void backward_key_tile(const FlashProblem<T>& p, const Geometry<T>& g, Scratch<T>& w, int64_t b, int64_t h,
                       int64_t kt, DqPart dq) {
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
        gemm_strict<T>(true, false, nj, p.Dv, ni, T(1), w.s.data(), ld, p.dout.row(b, h, i0), p.dout.st, keep, dv,
                p.dv.st);
      if (dq != DqPart::None)  // dq (ni x D) += beta dS (ni x nj) K (nj x D)
        gemm_strict<T>(false, false, ni, p.D, nj, p.beta, w.dp.data(), ld, p.k.row(b, h, j0), p.k.st,
                kt == 0 && dq == DqPart::KeyTile0Writes ? T(0) : T(1), p.dq.row(b, h, i0), p.dq.st);
      // dk (nj x D) += beta dS^T (nj x ni) Q (ni x D)
      gemm_strict<T>(true, false, nj, p.D, ni, p.beta, w.dp.data(), ld, p.q.row(b, h, i0), p.q.st, keep, dk, p.dk.st);
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

}  // namespace attn::kernels::ATTN_KERNEL_ISA
