// Tiled attention on the CPU in O(t) memory: the FlashAttention-2 scheme on raw arrays.
//
// Forward: for each (batch, head, tile of queries), stream over tiles of keys keeping a running
// row maximum m and sum l of exp(s - m) (the online softargmax), so the Tq x Tk score matrix
// never exists; only the row statistics lse = m + log l are kept for backward. Hard attention
// keeps a running argmax instead (and, for its straight-through gradient, the soft statistics).
// Backward recomputes each score tile from q, k and lse.
//
// This file is LibTorch-free so that it can be compiled once per instruction set (generic,
// AVX2+FMA, AVX-512; see src/CMakeLists.txt) and dispatched at run time. The torch side, with autograd,
// is attn/ops/fused_attention.h.
//
// Shapes: B batch, H heads, Tq queries, Tk keys, D query/key width, Dv value width. Element
// (b, h, t, d) of a 4-d array lives at data[b * sb + h * sh + t * st + d]: the last axis is
// contiguous, the others may be strided (e.g. a (B, T, H, D) buffer seen as (B, H, T, D)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attn/kernels/isa.h"

namespace attn::kernels {

template <typename T>
struct View4 {
  T* data = nullptr;
  int64_t sb = 0, sh = 0, st = 0;
  T* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};

template <typename T>
struct FlashProblem {
  int64_t B = 0, H = 0, Tq = 0, Tk = 0, D = 0, Dv = 0;
  T beta = 1;                           ///< scores are beta * q.k
  bool causal = false;                  ///< query i sees key j only when j <= i + (Tk - Tq)
  const bool* key_padding = nullptr;    ///< (B, Tk) contiguous, true = padding; or null
  bool hard = false;                    ///< one-hot argmax instead of softargmax
  bool soft_stats = true;               ///< keep the softargmax statistics (soft, or hard with
                                        ///< the straight-through gradient)
  View4<const T> q, k, v;
  // Forward outputs.
  View4<T> out;                         ///< (B, H, Tq, Dv): the attention output
  View4<T> out_soft;                    ///< hard + soft_stats: the softargmax output, for backward
  T* lse = nullptr;                     ///< (B, H, Tq): m + log l; +inf where a query sees no key
  int64_t* argmax = nullptr;            ///< hard: (B, H, Tq) the chosen key, -1 for none
  // Backward inputs and outputs.
  View4<const T> dout;                  ///< (B, H, Tq, Dv)
  View4<T> dq, dk, dv;
  T* drow = nullptr;                    ///< (B, H, Tq) scratch: rowsum(dout * soft output)
  bool skip_zero_rows = true;           ///< backward leaves out queries whose dout is all zero

  /// Fixed tile grids, shared by forward and both backward schemes.
  int64_t q_tile = 0, q_tiles = 0, k_tile = 0, k_tiles = 0;
};

/// Picks the tile grids (tiles of at most 64 queries and 256 keys, evened out).
template <typename T>
void plan_tiles(FlashProblem<T>& p);

/// The kernels of one instruction set. Each processes the task range [begin, end) and may run
/// concurrently with other ranges of the same call.
template <typename T>
struct FlashKernels {
  /// Tasks (b, h, query tile): out, lse, argmax, out_soft.
  void (*forward)(const FlashProblem<T>& p, int64_t begin, int64_t end);
  /// Tasks (b, h, query tile): drow. Run before backward_dkdv and backward_dq.
  void (*backward_prepare)(const FlashProblem<T>& p, int64_t begin, int64_t end);
  /// Tasks (b, h): drow, then dq, dk and dv of one (batch, head), tile after tile of keys.
  void (*backward_fused)(const FlashProblem<T>& p, int64_t begin, int64_t end);
  /// Tasks (b, h, key tile): dk and dv only. With backward_dq, the same result as
  /// backward_fused with more parallelism (for B * H smaller than the thread count).
  void (*backward_dkdv)(const FlashProblem<T>& p, int64_t begin, int64_t end);
  /// Tasks (b, h, query tile): dq only.
  void (*backward_dq)(const FlashProblem<T>& p, int64_t begin, int64_t end);
};

/// The kernels of the instruction set in force (isa.h: kernel_isa()).
template <typename T>
const FlashKernels<T>& flash_kernels();

}  // namespace attn::kernels
