#include "attn/kernels/linear_kernels.h"

#include <algorithm>

#include "attn/kernels/blas.h"

namespace attn::kernels {

template <typename T>
void linear_forward(const LinearProblem<T>& p, int64_t begin, int64_t end) {
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    T* y = p.y + r0 * p.M;
    if (p.b)
      for (int64_t r = 0; r < n; ++r) std::copy(p.b, p.b + p.M, y + r * p.M);
    gemm<T>(false, true, n, p.M, p.K, T(1), p.x + r0 * p.K, p.K, p.w, p.K, p.b ? T(1) : T(0), y, p.M);  // y += x W^T
  }
}

template <typename T>
void linear_backward(const LinearProblem<T>& p, int64_t begin, int64_t end, T* dw, T* db) {
  for (int64_t blk = begin; blk < end; ++blk) {
    const int64_t r0 = blk * p.block, n = std::min(p.block, p.N - r0);
    const T* dy = p.dy + r0 * p.M;
    gemm<T>(false, false, n, p.K, p.M, T(1), dy, p.M, p.w, p.K, T(0), p.dx + r0 * p.K, p.K);  // dx (n, K) = dy W
    gemm<T>(true, false, p.M, p.K, n, T(1), dy, p.M, p.x + r0 * p.K, p.K, T(1), dw, p.K);      // dW (M, K) += dy^T x
    if (db)
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < p.M; ++c) db[c] += dy[r * p.M + c];
  }
}

template void linear_forward<float>(const LinearProblem<float>&, int64_t, int64_t);
template void linear_forward<double>(const LinearProblem<double>&, int64_t, int64_t);
template void linear_backward<float>(const LinearProblem<float>&, int64_t, int64_t, float*, float*);
template void linear_backward<double>(const LinearProblem<double>&, int64_t, int64_t, double*, double*);

}  // namespace attn::kernels
