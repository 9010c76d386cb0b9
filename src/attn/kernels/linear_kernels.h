// A linear layer y = x W^T + b over many rows (the attention projections: N = B x T rows of
// width K = d_model), forward and backward in blocks of rows.
//
// One matrix product over all N rows goes through OpenBLAS's general path: it packs both
// operands and zeroes the output first, which for K = 32 costs as much as the arithmetic. In
// blocks of rows (block_rows, blas.h: up to 128 where they fit its small-matrix kernels, 512
// from d_model 128 on), one per thread at a time, the products stay in the cache; backward adds each block's dy^T x to a per-chunk weight gradient. The forward
// product takes W transposed (wt, K x M, made once per call by the caller): x wt is a plain
// product, which OpenBLAS's small kernels run ~20% faster than x W^T (whose small kernel it
// refuses for outputs wider than 1,200 elements).
//
// LibTorch-free; block products through attn/kernels/blas.h. The torch side, with autograd, is
// attn/ops/blocked_linear.h. Shapes: x (N, K), W (M, K), b (M), y (N, M).
#pragma once

#include <cstdint>

namespace attn::kernels {

template <typename T>
struct LinearProblem {
  int64_t N = 0, K = 0, M = 0;
  const T* x = nullptr;   ///< (N, K)
  const T* w = nullptr;   ///< (M, K)
  const T* wt = nullptr;  ///< (K, M): w transposed, for forward
  const T* b = nullptr;   ///< (M) or null
  T* y = nullptr;         ///< forward: (N, M)
  const T* dy = nullptr;  ///< backward: (N, M)
  T* dx = nullptr;        ///< backward: (N, K)
  int64_t block = 128;    ///< rows per block

  int64_t blocks() const { return (N + block - 1) / block; }
};

/// y (n, M) = x (n, K) wt + b for one block of rows, wt = W^T (K, M) (b may be null): the step
/// the blocked kernels share (the feed-forward kernel's two layers are two of these).
template <typename T>
void linear_rows(int64_t n, int64_t K, int64_t M, const T* x, const T* wt, const T* b, T* y);

/// y of the rows of blocks [begin, end).
template <typename T>
void linear_forward(const LinearProblem<T>& p, int64_t begin, int64_t end);

/// dx of the rows of blocks [begin, end); their dy^T x added to dw (M, K) and, when db is not
/// null, their column sums of dy to db (M), block after block in order.
template <typename T>
void linear_backward(const LinearProblem<T>& p, int64_t begin, int64_t end, T* dw, T* db);

}  // namespace attn::kernels
