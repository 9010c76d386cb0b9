#include "attn/kernels/flash/gathered.h"

#include <algorithm>

#include "attn/kernels/flash/backward_tiles.h"

namespace attn::kernels::ATTN_KERNEL_ISA {

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
  for (int64_t kt = 0; kt < s.k_tiles; ++kt) backward_key_tile(s, g, w, 0, 0, kt, DqPart::KeyTile0Writes);
  w.kt_of = w.vt_of = -1;
  for (int64_t r = 0; r < n; ++r)
    std::copy(gr.dq.data() + r * p.D, gr.dq.data() + (r + 1) * p.D, p.dq.row(b, h, gr.rows[r]));
}

template void backward_gathered<float>(const FlashProblem<float>&, Scratch<float>&, Gathered<float>&, int64_t, int64_t,
                                       int64_t);
template void backward_gathered<double>(const FlashProblem<double>&, Scratch<double>&, Gathered<double>&, int64_t,
                                        int64_t, int64_t);

}  // namespace attn::kernels::ATTN_KERNEL_ISA
