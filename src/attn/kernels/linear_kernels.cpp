#include "attn/kernels/linear_kernels.h"

#include <algorithm>

#include "attn/kernels/blas.h"
#include "attn/kernels/row_loops.h"

namespace attn::kernels {

template <typename T>
void linear_rows(int64_t n, int64_t K, int64_t M, const T* x, const T* wt, const T* b, T* y) {
  gemm<T>(false, false, n, M, K, T(1), x, K, wt, M, T(0), y, M);  // y (n, M) = x W^T
  if (b) add_row_bias(y, b, n, M);  // one pass over the block in cache (not a copy of b per row first)
}

template <typename T>
void linear_forward(const LinearProblem<T>& p, int64_t begin, int64_t end) {
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    linear_rows(n, p.K, p.M, p.x + r0 * p.K, p.wt, p.b, p.y + r0 * p.M);
  }
}

template <typename T>
void linear_backward(const LinearProblem<T>& p, int64_t begin, int64_t end, T* dw, T* db) {
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    const T* dy = p.dy + r0 * p.M;
    gemm<T>(false, false, n, p.K, p.M, T(1), dy, p.M, p.w, p.K, T(0), p.dx + r0 * p.K, p.K);  // dx (n, K) = dy W
    gemm<T>(true, false, p.M, p.K, n, T(1), dy, p.M, p.x + r0 * p.K, p.K, T(1), dw, p.K);      // dW (M, K) += dy^T x
    if (db) add_column_sums(dy, n, p.M, db);                                                  // db (M) += sum dy
  }
}

template void linear_rows<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*, float*);
template void linear_rows<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*, double*);
template void linear_forward<float>(const LinearProblem<float>&, int64_t, int64_t);
template void linear_forward<double>(const LinearProblem<double>&, int64_t, int64_t);
template void linear_backward<float>(const LinearProblem<float>&, int64_t, int64_t, float*, float*);
template void linear_backward<double>(const LinearProblem<double>&, int64_t, int64_t, double*, double*);

}  // namespace attn::kernels
