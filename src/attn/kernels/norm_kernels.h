// Add & LayerNorm in one pass over the rows: y = LN(x + r) with weight gamma and bias beta,
// forward and backward, on the CPU.
//
// Unfused, the residual add writes x + r, LayerNorm reads it, writes y and keeps statistics,
// and backward reads everything again in two of LibTorch's kernels (one of them serial here).
// With rows of d_model = 32 values the work is all memory traffic: here each row is read once,
// normalised in cache and written once; backward recomputes x + r from its two inputs.
//
// r is optional and may repeat with a period: row i adds r[i mod R] (the embeddings' position
// table, R = T, added to every set of the batch).
//
// LibTorch-free. The torch side, with autograd, is attn/ops/fused_add_norm.h.
// Shapes: x (N, D), r (R, D) with N a multiple of R, gamma and beta (D), y (N, D).
#pragma once

#include <cstdint>

namespace attn::kernels {

template <typename T>
struct AddNormProblem {
  int64_t N = 0, D = 0, R = 0;
  const T* x = nullptr;      ///< (N, D)
  const T* r = nullptr;      ///< (R, D) or null
  const T* gamma = nullptr;  ///< (D)
  const T* beta = nullptr;   ///< (D)
  T eps = T(1e-5);
  T* y = nullptr;            ///< forward: (N, D)
  T* rstd = nullptr;         ///< (N): 1 / sqrt(var + eps), written by forward, read by backward
  const T* dy = nullptr;     ///< backward: (N, D)
  T* dx = nullptr;           ///< backward: (N, D), the gradient of x + r
  int64_t block = 256;       ///< rows per block

  int64_t blocks() const { return (N + block - 1) / block; }
};

/// y and rstd of the rows of blocks [begin, end).
template <typename T>
void add_norm_forward(const AddNormProblem<T>& p, int64_t begin, int64_t end);

/// dx of the rows of blocks [begin, end); their sums of dy * xhat and of dy added to dgamma and
/// dbeta (D each), row after row in order.
template <typename T>
void add_norm_backward(const AddNormProblem<T>& p, int64_t begin, int64_t end, T* dgamma, T* dbeta);

}  // namespace attn::kernels
