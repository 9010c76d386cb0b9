// The lecture's 1-convolution, y = relu(x W1^T + b1) W2^T + b2 row by row, on the CPU in blocks
// of rows, forward and backward.
//
// Unfused, the hidden layer h (N x F, 4x wider than x) is written by the first product, read
// and rewritten by the ReLU, kept for backward, and read again by three products and the ReLU's
// backward. Here each block of rows computes its h, adds the bias and the ReLU in one pass and
// goes straight on to y while h is in cache. For backward, h is either recomputed block by block
// (one more product, 2 D flops per element of h) or kept by forward in an (N, F) tensor (8 bytes
// of memory traffic per element): ffn_keeps_hidden says which, by D. The notebook's D = 32
// recomputes (and only on the rows max-pooling gives a gradient); the translation model's
// D = 256 keeps (the recomputation was a fifth of its feed-forward's backward). Backward then
// derives dx and the block's share of the weight gradients from h.
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
  const T* w1t = nullptr; ///< forward: (D, F), w1 transposed (see linear_rows)
  const T* w2t = nullptr; ///< forward: (F, D), w2 transposed
  const T* b2 = nullptr;  ///< (D)
  T* y = nullptr;         ///< forward: (N, D)
  T* h = nullptr;         ///< (N, F) relu(x W1^T + b1) or null: forward writes it, backward reads it (else recomputes)
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

/// Whether forward for training keeps h for backward (true from D = 128) or backward recomputes it.
bool ffn_keeps_hidden(int64_t D);

/// y of the rows of blocks [begin, end).
template <typename T>
void ffn_forward(const FfnProblem<T>& p, int64_t begin, int64_t end);

/// dx of the rows of blocks [begin, end), and their share of the weight gradients, added to g
/// block after block in order (so a fixed split of the blocks gives the same sums every run).
template <typename T>
void ffn_backward(const FfnProblem<T>& p, int64_t begin, int64_t end, const FfnGrads<T>& g);

}  // namespace attn::kernels
