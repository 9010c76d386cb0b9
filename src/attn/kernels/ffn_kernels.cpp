#include "attn/kernels/ffn_kernels.h"

#include <algorithm>
#include <vector>

#include "attn/kernels/blas.h"
#include "attn/kernels/linear_kernels.h"
#include "attn/kernels/row_loops.h"

namespace attn::kernels {

namespace {

// h (n x F) = relu(x[r0 .. r0 + n) W1^T + b1): the product, then the bias and the ReLU in one
// pass (not the bias copied into h before the product: one pass over h fewer).
template <typename T>
void hidden(const FfnProblem<T>& p, int64_t r0, int64_t n, T* h) {
  linear_rows<T>(n, p.D, p.F, p.x + r0 * p.D, p.w1t, nullptr, h);
  bias_relu(h, p.b1, n, p.F);
}

}  // namespace

bool ffn_keeps_hidden(int64_t D) { return D >= 128; }

template <typename T>
void ffn_forward(const FfnProblem<T>& p, int64_t begin, int64_t end) {
  std::vector<T> block_h(p.h ? 0 : p.block * p.F);
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    T* h = p.h ? p.h + r0 * p.F : block_h.data();
    hidden(p, r0, n, h);                                                   // (n, F)
    if (p.residual) {                                                      // y (n, D) = x + b2 + h W2^T
      T* y = p.y + r0 * p.D;
      rows_plus_bias(y, p.x + r0 * p.D, p.b2, n, p.D);
      gemm<T>(false, false, n, p.D, p.F, T(1), h, p.F, p.w2t, p.D, T(1), y, p.D);
    } else {
      linear_rows(n, p.F, p.D, h, p.w2t, p.b2, p.y + r0 * p.D);            // y (n, D) = h W2^T + b2
    }
  }
}

template <typename T>
void ffn_backward(const FfnProblem<T>& p, int64_t begin, int64_t end, const FfnGrads<T>& g) {
  std::vector<T> block_h(p.h ? 0 : p.block * p.F), dh(p.block * p.F);
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    const T* x = p.x + r0 * p.D;
    const T* dy = p.dy + r0 * p.D;
    const T* h = p.h ? p.h + r0 * p.F : block_h.data();                    // (n, F), kept by forward
    if (!p.h) hidden(p, r0, n, block_h.data());                            // or recomputed
    gemm<T>(true, false, p.D, p.F, n, T(1), dy, p.D, h, p.F, T(1), g.w2, p.F);  // dW2 (D, F) += dy^T h
    add_column_sums(dy, n, p.D, g.b2);                                     // db2 (D) += sum dy
    gemm<T>(false, false, n, p.F, p.D, T(1), dy, p.D, p.w2, p.F, T(0), dh.data(), p.F);  // dh (n, F) = dy W2
    relu_backward_sums(h, dh.data(), n, p.F, g.b1);                        // through the ReLU; db1 (F) += sum dh
    gemm<T>(true, false, p.F, p.D, n, T(1), dh.data(), p.F, x, p.D, T(1), g.w1, p.D);  // dW1 (F, D) += dh^T x
    T* dx = p.dx + r0 * p.D;
    if (p.residual) std::copy(dy, dy + n * p.D, dx);                       // the residual's dx = dy
    gemm<T>(false, false, n, p.D, p.F, T(1), dh.data(), p.F, p.w1, p.D, p.residual ? T(1) : T(0), dx, p.D);  // dx (+)= dh W1
  }
}

template void ffn_forward<float>(const FfnProblem<float>&, int64_t, int64_t);
template void ffn_forward<double>(const FfnProblem<double>&, int64_t, int64_t);
template void ffn_backward<float>(const FfnProblem<float>&, int64_t, int64_t, const FfnGrads<float>&);
template void ffn_backward<double>(const FfnProblem<double>&, int64_t, int64_t, const FfnGrads<double>&);

}  // namespace attn::kernels
