// The backward passes: each score tile recomputed from q, k and the saved row statistics
// (FlashAttention-2); per (set, head) with the queries that have a gradient gathered where
// few do, or split into key-tile tasks (dk, dv) and query-tile tasks (dq) for more parallelism.
#include <memory>

#include "attn/kernels/flash/backward_tiles.h"
#include "attn/kernels/flash/gathered.h"
#include "attn/kernels/flash/passes.h"
#include "attn/kernels/row_loops.h"

namespace attn::kernels::ATTN_KERNEL_ISA {

template <typename T>
void backward_prepare(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  for (int64_t task = begin; task < end; ++task) {
    const auto [b, h, bh, qt, i0, ni] = g.query_task(task);
    output_dots(p, b, h, i0, ni);
  }
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
    const DqPart dq = !p.soft_stats                 ? DqPart::None
                      : g.first_q_tile_for(0) > 0 ? DqPart::AddToZeroed
                                                  : DqPart::KeyTile0Writes;
    if (dq == DqPart::AddToZeroed) zero_rows(p.dq, b, h, 0, p.Tq, p.D);
    for (int64_t kt = 0; kt < p.k_tiles; ++kt) backward_key_tile(p, g, w, b, h, kt, dq);
  }
}

template <typename T>
void backward_dkdv(const FlashProblem<T>& p, int64_t begin, int64_t end) {
  const Geometry<T> g(p);
  Scratch<T> w(p);
  for (int64_t task = begin; task < end; ++task) {
    const int64_t kt = task % p.k_tiles, bh = task / p.k_tiles;
    backward_key_tile(p, g, w, bh / p.H, bh % p.H, kt, DqPart::None);  // backward_dq computes dq
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
      gemm_strict<T>(false, false, ni, p.D, nj, p.beta, w.dp.data(), ld, p.k.row(b, h, j0), p.k.st, T(1),
              p.dq.row(b, h, i0), p.dq.st);
    }
  }
}

template void backward_prepare<float>(const FlashProblem<float>&, int64_t, int64_t);
template void backward_prepare<double>(const FlashProblem<double>&, int64_t, int64_t);
template void backward_fused<float>(const FlashProblem<float>&, int64_t, int64_t);
template void backward_fused<double>(const FlashProblem<double>&, int64_t, int64_t);
template void backward_dkdv<float>(const FlashProblem<float>&, int64_t, int64_t);
template void backward_dkdv<double>(const FlashProblem<double>&, int64_t, int64_t);
template void backward_dq<float>(const FlashProblem<float>&, int64_t, int64_t);
template void backward_dq<double>(const FlashProblem<double>&, int64_t, int64_t);

}  // namespace attn::kernels::ATTN_KERNEL_ISA
