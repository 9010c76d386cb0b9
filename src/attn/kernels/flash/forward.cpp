// The forward pass: for each (set, head, tile of queries), the key tiles streamed with a
// running row maximum and sum (the online softargmax), so that the t x t matrix never exists.
#include "attn/kernels/flash/passes.h"
#include "attn/kernels/flash/tiles.h"
#include "attn/kernels/simd/exp.h"
#include "attn/kernels/simd/transpose.h"

namespace attn::kernels::ATTN_KERNEL_ISA {

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
        gemm_strict<T>(false, false, ni, p.Dv, nj, T(1), w.s.data(), ld, p.v.row(b, h, j0), p.v.st, first ? T(0) : T(1),
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

template void forward<float>(const FlashProblem<float>&, int64_t, int64_t);
template void forward<double>(const FlashProblem<double>&, int64_t, int64_t);

}  // namespace attn::kernels::ATTN_KERNEL_ISA
