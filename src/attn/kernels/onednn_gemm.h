// Large products through oneDNN (the libdnnl LibTorch itself links): float32 ones on CPUs with
// AMX (below), and products with bfloat16 operands summed in float32 (config.precision "bf16"),
// as PyTorch's autocast to bfloat16 computes a linear layer: what kernels::gemm<float> (blas.h) runs while
// the precision is Bf16, for products of at least kOnednnMinProduct multiply-adds: the linear
// layers', the feed-forward's and the output projection's blocks, forward and backward. The
// attention kernels' tiles (scores, softmax, their products) stay float32.
//
// Both operands are rounded to bfloat16 (to nearest, ties to even) into per-thread buffers in
// their stored layout (oneDNN's reorder, which also flushes float32 denormals, |x| < 1.2e-38, to
// a signed zero where to_bf16 keeps them: measured on AMX); the product runs in oneDNN's bfloat16 kernels where the CPU has AMX or
// AVX512-BF16 (bf16_engine() names them), else as a float32 product of the rounded operands:
// the same numbers up to the order of the sums, no faster. alpha and beta are applied in float32
// to the float32 result (C = alpha op(A) op(B) + beta C). LibTorch-free.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "attn/core/choices.h"

namespace attn::kernels {

/// The precision of every thread's large products from now on (default Fp32).
void set_matmul_precision(Precision precision);
Precision matmul_precision();

/// Products of fewer multiply-adds (M N K) never go to oneDNN: under Bf16 they stay float32, and
/// float32 ones stay with the BLAS. The blocks of models as small as the notebook's (128 x 32 x 32),
/// where oneDNN's per-call cost (2-20 us, measured) outweighs the arithmetic. (The attention
/// kernels' tiles are float32 whatever their size: gemm_strict.)
constexpr int64_t kOnednnMinProduct = int64_t(1) << 20;

/// What runs bfloat16 products here: "oneDNN AMX", "oneDNN AVX512-BF16" or "emulated (float32
/// products of bfloat16-rounded operands)".
std::string bf16_engine();
/// True where bf16_engine() is one of oneDNN's (the products are faster than float32 ones).
bool bf16_native();

/// x rounded to the nearest bfloat16 (ties to even), as its 16 bits; NaN stays NaN (quiet).
uint16_t to_bf16(float x);
float from_bf16(uint16_t b);
/// out[i] = to_bf16(x[i]), i < n.
void round_to_bf16(const float* x, int64_t n, uint16_t* out);

/// Row-major C (M x N) = alpha op(A) op(B) + beta C with op(A), op(B) rounded to bfloat16 and
/// summed in float32; the arguments as gemm's (blas.h).
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/// Whether gemm_strict<float> runs products of at least kOnednnMinProduct multiply-adds through
/// oneDNN's float32 matmul rather than the BLAS: where the CPU has AMX (Intel Xeons from Sapphire
/// Rapids on), on which it made the translation model's float32 training step 8% faster than
/// OpenBLAS's SkylakeX kernel (1.36-1.39 against 1.47-1.51 s, alternated) and evaluation 4%;
/// elsewhere the BLAS (AMD Zen 4: OpenBLAS's Cooperlake kernel runs at 78% of the matmul rate).
/// ATTN_FP32_PRODUCTS=onednn | openblas overrides (the portability tests run both), read once.
bool onednn_fp32_products();

/// gemm_strict's float32 product through oneDNN; the arguments as gemm's (blas.h).
void gemm_onednn_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

/// Weights that stay as they are over a scope (one op's forward or backward): under Bf16 with
/// oneDNN each is rounded once when the scope opens, and products within the scope that read
/// it, or a part of it, take that copy instead of rounding it again for every block of rows
/// (the output projection's 8,000 x 256 weight once, not once per 128 target tokens). Elsewhere
/// a no-op. Scopes nest; they are opened and closed by the thread that calls the ops, while the
/// kernels' worker threads only read them.
class Bf16Constants {
 public:
  /// A dense row-major matrix (rows x cols). Double ones are taken and ignored (double products
  /// are never rounded), so that templated ops can pass theirs.
  struct Operand {
    const float* data = nullptr;
    int64_t rows = 0, cols = 0;
    Operand(const float* d, int64_t r, int64_t c) : data(d), rows(r), cols(c) {}
    Operand(const double*, int64_t, int64_t) {}
  };
  explicit Bf16Constants(std::initializer_list<Operand> operands);
  ~Bf16Constants();
  Bf16Constants(const Bf16Constants&) = delete;
  Bf16Constants& operator=(const Bf16Constants&) = delete;

  /// The rounded copy of the `rows` x `width` operand at x (row stride ld) and its row stride,
  /// when an open scope holds it; {nullptr, 0} otherwise.
  static std::pair<const uint16_t*, int64_t> find(const float* x, int64_t rows, int64_t width, int64_t ld);

 private:
  struct Rounded {
    Operand operand;
    std::vector<uint16_t> bits;
  };
  std::vector<Rounded> rounded_;
  const Bf16Constants* outer_ = nullptr;
  bool open_ = false;
};

}  // namespace attn::kernels
