// One matrix product for the CPU kernels (attention tiles, feed-forward blocks): row-major
// arrays, through the BLAS LibTorch uses (sgemm_/dgemm_), or plain loops where the build found
// no BLAS. LibTorch-free. Called from inside at::parallel_for, where an OpenMP BLAS runs serially.
#pragma once

#include <cstdint>

namespace attn::kernels {

/// Row-major C (M x N) = alpha * op(A) op(B) + beta * C, with op(A) M x K and op(B) K x N;
/// op(X) = X^T when trans_x. lda, ldb, ldc: the row strides of A, B, C as stored.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace attn::kernels
