// One matrix product for the CPU kernels (attention tiles, feed-forward blocks): row-major
// arrays, through the BLAS LibTorch uses (sgemm_/dgemm_), or plain loops where the build found
// no BLAS. LibTorch-free. Called from inside at::parallel_for, where an OpenMP BLAS runs serially.
#pragma once

#include <cstdint>

namespace attn::kernels {

/// Row-major C (M x N) = alpha * op(A) op(B) + beta * C, with op(A) M x K and op(B) K x N;
/// op(X) = X^T when trans_x. lda, ldb, ldc: the row strides of A, B, C as stored. For float,
/// under matmul_precision() Bf16 and at least kOnednnMinProduct multiply-adds, gemm_bf16
/// (onednn_gemm.h); else gemm_strict.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

/// gemm in T's own precision, whatever the matmul precision.
template <typename T>
void gemm_strict(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                 const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

/// Rows per block for the blocked kernels, whose block products are (rows x m) = (rows x k)(k x m)
/// and their transposes: 128 at most (measured best at the notebook's size), a multiple of 16,
/// and small enough that rows * m * k stays within 1e6, the largest product OpenBLAS (0.3.21,
/// its AVX-512 kernels) takes through its small-matrix path rather than its general one, which
/// packs both operands first (d_model 64: the q/k/v projection and the feed-forward). Where
/// fewer than 32 rows would fit (m k > 31,250: d_model 128 and up), 512 rows through the
/// general path, which packs the whole weight again for every block: at 128 rows that packing
/// was ~10% of the translation model's training step (perf, Intel Xeon, SkylakeX kernel), and
/// 512-row blocks made the step 2-10% faster (64 x 100 and 64 x 18 batches, evaluation too);
/// 16-row blocks ran at 62-80% of the general path's rate (one core, d_model 256: 74 against
/// 98 GFLOP/s).
int64_t block_rows(int64_t m, int64_t k);

}  // namespace attn::kernels
