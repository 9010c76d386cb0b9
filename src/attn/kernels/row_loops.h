// The element loops of the blocked CPU kernels (linear_kernels.h, ffn_kernels.h) over a block of
// rows in cache: bias, ReLU and its gradient, column sums. LibTorch-free.
//
// The library is built for the baseline x86-64 (SSE2, 4 floats at a time); these loops run
// there and, where the kernels' instruction set (AVX2 or AVX-512) allows, as AVX2 copies, twice
// as wide (attn/kernels/isa_copies.h). Each output element gets the same operations in the same
// order in every copy (lanes run across columns, sums along rows; no FMA contraction), so the
// copies agree bit for bit.
#pragma once

#include <cstdint>

namespace attn::kernels {

/// y (n, m) += b (m) on every row.
template <typename T>
void add_row_bias(T* y, const T* b, int64_t n, int64_t m);

/// y (n, m) = x (n, m) + b (m) on every row.
template <typename T>
void rows_plus_bias(T* y, const T* x, const T* b, int64_t n, int64_t m);

/// h (n, m) = max(h + b, 0), b (m) optional (null: the ReLU only).
template <typename T>
void bias_relu(T* h, const T* b, int64_t n, int64_t m);

/// Through the ReLU whose output is h (n, m): dh = h > 0 ? dh : 0; and db (m) += its column sums.
template <typename T>
void relu_backward_sums(const T* h, T* dh, int64_t n, int64_t m, T* db);

/// acc (m) += the column sums of x (n, m), row after row: a bias gradient.
template <typename T>
void add_column_sums(const T* x, int64_t n, int64_t m, T* acc);

/// The rows of x (n rows of m, row i at x + i * ld) with an element that is not zero (NaN counts),
/// in order, into rows (room for n); returns how many there are, or stops once there are more
/// than `limit` (and returns limit + 1).
template <typename T>
int64_t nonzero_rows(const T* x, int64_t n, int64_t m, int64_t ld, int64_t limit, int64_t* rows);

/// Whether backward passes leave out the rows whose gradient is zero (attn/ops/gradient_rows.h,
/// and the attention kernel's queries): yes, unless the environment has ATTN_SKIP_ZERO_ROWS=0
/// (every row through the products, for comparisons).
bool skip_zero_gradient_rows();

}  // namespace attn::kernels
