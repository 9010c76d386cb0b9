// The output projection and label-smoothed cross-entropy in one pass over blocks of rows, forward
// and gradient together, on the CPU: loss_i = CE(h_i W^T + b, y_i) without the (N, V) logits in
// memory.
//
// Unfused, a translation model's last step writes (N, V) logits (N = B * T target tokens, V the
// vocabulary: 6,400 x 8,000 floats, 205 MB, for a batch of 64 x 100), log-softmax reads them
// and writes as much again, the loss reads that, and backward makes as many passes again (the
// smoothing term's expanded gradient, the NLL's scattered one, their sum, log-softmax's
// backward). Here each block of rows is multiplied out into a scratch block that stays in
// cache, one pass over each row gives its loss, its argmax and, in place, the gradient of the
// logits, and two products turn that into the gradients of h, W and b. The gradient is computed
// with the forward (the loss is a scalar: its backward only scales it), as the chunked "fused
// linear cross-entropy" kernels of recent training stacks do.
//
// With label smoothing e over V classes (PyTorch's definition):
//   loss_i  = (1 - e) (lse_i - z_iy) + e (lse_i - mean_v z_iv),  lse_i = log sum_v exp z_iv
//   dz_iv   = scale (softmax_iv - e / V - (1 - e) [v = y_i])
//
// LibTorch-free. The torch side, with autograd, is attn/ops/linear_cross_entropy.h.
// Shapes: h (N, D), w (V, D), b (V), target (N), loss (N), dh (N, D), dw (V, D), db (V).
#pragma once

#include <cstdint>

namespace attn::kernels {

template <typename T>
struct LinearCrossEntropyProblem {
  int64_t N = 0, D = 0, V = 0;
  const T* h = nullptr;               ///< (N, D)
  const T* w = nullptr;               ///< (V, D)
  const T* b = nullptr;               ///< (V) or null
  const int64_t* target = nullptr;    ///< (N), each in [0, V)
  T smoothing = 0;                    ///< e
  T scale = 1;                        ///< the gradient's factor (1 / the rows averaged over)
  T* loss = nullptr;                  ///< (N), written
  int64_t* argmax = nullptr;          ///< (N), written where not null
  T* dh = nullptr;                    ///< (N, D), written where not null (null: no gradient)
  int64_t block = 128;                ///< rows per block

  int64_t blocks() const { return (N + block - 1) / block; }
};

/// Loss, argmax and (dh set) dh of the rows of blocks [begin, end); with dh set, adds the
/// blocks' contributions to dw (V, D) and db (V, or null when b is).
template <typename T>
void linear_cross_entropy(const LinearCrossEntropyProblem<T>& p, int64_t begin, int64_t end, T* dw, T* db);

/// Rows per block for a vocabulary of V: a scratch block of about 4 MB of float.
int64_t cross_entropy_block_rows(int64_t V);

}  // namespace attn::kernels
