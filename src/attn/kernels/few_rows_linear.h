// A linear layer y = x W^T + b over a few rows: a decoding step, one token per sentence (B x 1
// rows, or B x beam), where the weights are large and the rows are not.
//
// There a matrix product's arithmetic is small and its copies are not: OpenBLAS packs the whole
// weight into its own layout on every call (and the blocked kernel of linear_kernels.h first
// transposes it), so the weight is read two or three times for one use. Here the weight is read
// where it lies, once: each group of 4 rows of W is multiplied with every row of x (which stays
// in the L1 cache) as dot products along K, in lanes of one 32-byte register, the lanes summed at
// the end. Optionally fused: the ReLU of the sum, and a residual added.
//
// LibTorch-free. Shapes: x (N, K), W (M, K), b (M) or null, add (N, M) or null, y (N, M).
#pragma once

#include <cstdint>

namespace attn::kernels {

/// The row counts for which few_rows_linear beats the packed product (measured: decoding steps
/// of 16-80 rows against OpenBLAS's; at a few hundred rows packing pays for itself).
constexpr int64_t kFewRows = 80;

template <typename T>
struct FewRowsLinear {
  int64_t N = 0, K = 0, M = 0;
  const T* x = nullptr;    ///< (N, K)
  const T* w = nullptr;    ///< (M, K)
  const T* b = nullptr;    ///< (M) or null
  bool relu = false;       ///< y = max(x W^T + b, 0)
  const T* add = nullptr;  ///< (N, M) or null: added last (a residual)
  T* y = nullptr;          ///< (N, M)

  /// Items for a parallel loop: groups of kColumns output columns.
  static constexpr int64_t kColumns = 32;
  int64_t items() const { return (M + kColumns - 1) / kColumns; }
};

/// The columns of items [begin, end) of y, every row.
template <typename T>
void few_rows_linear(const FewRowsLinear<T>& p, int64_t begin, int64_t end);

}  // namespace attn::kernels
