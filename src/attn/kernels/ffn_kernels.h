// The lecture's 1-convolution, y = relu(x W1^T + b1) W2^T + b2 row by row, on the CPU in blocks
// of rows, forward and backward, without the N x F hidden tensor.
//
// Unfused, the hidden layer h (N x F, 4x wider than x) is written by the first product, read
// and rewritten by the ReLU, kept for backward, and read again by three products and the ReLU's
// backward. Here each block of rows keeps its h in cache: forward computes it and goes straight
// on to y; backward recomputes it (one more block product, cheaper than the memory traffic of
// keeping it) and derives dx and the block's share of the weight gradients from it.
//
// LibTorch-free; block products through attn/kernels/blas.h. The torch side, with autograd, is
// attn/ops/fused_ffn.h. Shapes: N rows (B * T set elements), D model width, F hidden width.
#pragma once

#include <cstdint>

namespace attn::kernels {

template <typename T>
struct FfnProblem {
  int64_t N = 0, D = 0, F = 0;
  const T* x = nullptr;   ///< (N, D)
  const T* w1 = nullptr;  ///< (F, D)
  const T* b1 = nullptr;  ///< (F)
  const T* w2 = nullptr;  ///< (D, F)
  const T* w1t = nullptr; ///< (D, F): w1 transposed (see linear_rows)
  const T* w2t = nullptr; ///< (F, D): w2 transposed
  const T* b2 = nullptr;  ///< (D)
  T* y = nullptr;         ///< forward: (N, D)
  const T* dy = nullptr;  ///< backward: (N, D)
  T* dx = nullptr;        ///< backward: (N, D)
  bool residual = false;  ///< y = x + FFN(x) (and dx = dy + FFN's dx): the residual add inside
  int64_t block = 128;    ///< rows per block

  int64_t blocks() const { return (N + block - 1) / block; }
};

/// Where backward adds the weight gradients of its blocks (each zeroed by the caller).
template <typename T>
struct FfnGrads {
  T* w1 = nullptr;  ///< (F, D)
  T* b1 = nullptr;  ///< (F)
  T* w2 = nullptr;  ///< (D, F)
  T* b2 = nullptr;  ///< (D)
};

/// y of the rows of blocks [begin, end).
template <typename T>
void ffn_forward(const FfnProblem<T>& p, int64_t begin, int64_t end);

/// dx of the rows of blocks [begin, end), and their share of the weight gradients, added to g
/// block after block in order (so a fixed split of the blocks gives the same sums every run).
template <typename T>
void ffn_backward(const FfnProblem<T>& p, int64_t begin, int64_t end, const FfnGrads<T>& g);

}  // namespace attn::kernels
