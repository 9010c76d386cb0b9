// config.precision "bf16": bfloat16 rounding against LibTorch's, and the products kernels::gemm
// runs under it against float64 sums of the rounded operands (attn/kernels/onednn_gemm.h), on
// every CPU: oneDNN's AMX / AVX512-BF16 kernels where it has them, the emulation elsewhere.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "attn/kernels/onednn_gemm.h"
#include "attn/kernels/blas.h"
#include "attn/model/build.h"
#include "attn/model/seq2seq.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_bf16 {

using namespace attn::kernels;
using attn::Precision;

namespace {

struct PrecisionScope {
  explicit PrecisionScope(Precision p) { set_matmul_precision(p); }
  ~PrecisionScope() { set_matmul_precision(Precision::Fp32); }
};

uint16_t libtorch_bf16(float x) { return c10::BFloat16(x).x; }

std::vector<float> normal(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

float rounded(float x) { return from_bf16(to_bf16(x)); }

}  // namespace

TEST_CASE("bfloat16 rounding is to nearest, ties to even, as LibTorch rounds", "[bf16]") {
  CHECK(to_bf16(1.0f) == 0x3f80);
  CHECK(to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);                         // tie: to the even 1.0
  CHECK(to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);                     // tie: to the even 1 + 2^-6
  CHECK(to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81);  // just above the tie
  CHECK(to_bf16(-0.0f) == 0x8000);
  CHECK(to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up past the largest bfloat16
  CHECK(std::isnan(from_bf16(to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(from_bf16(to_bf16(-std::numeric_limits<float>::quiet_NaN()))));
  // Random magnitudes over the whole exponent range, and denormals: the same bits as c10::BFloat16.
  std::mt19937 g(7);
  std::vector<float> xs;
  for (int i = 0; i < 100000; ++i) {
    uint32_t u = g();
    if ((u & 0x7f800000u) == 0x7f800000u) continue;  // NaN / infinity: checked above
    float x;
    std::memcpy(&x, &u, 4);
    xs.push_back(x);
  }
  std::vector<uint16_t> out(xs.size());
  round_to_bf16(xs.data(), int64_t(xs.size()), out.data());
  size_t differ = 0;
  for (size_t i = 0; i < xs.size(); ++i) differ += out[i] != libtorch_bf16(xs[i]) || to_bf16(xs[i]) != out[i];
  CHECK(differ == 0);
}

TEST_CASE("under bf16 a product sums the bfloat16-rounded operands in float32, each transposition, alpha and beta",
          "[bf16]") {
  const PrecisionScope bf16(Precision::Bf16);
  INFO("bf16 products run on: " << bf16_engine());
  const int64_t M = 300, N = 200, K = 96;  // 5.8M multiply-adds: above kOnednnMinProduct
  REQUIRE(M * N * K >= kOnednnMinProduct);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (float beta : {0.0f, 1.0f, 0.25f}) {
        const float alpha = beta == 0.25f ? 0.5f : 1.0f;
        // Stored with row strides wider than the rows, as the kernels' blocks are.
        const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K, lda = a_cols + 5;
        const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N, ldb = b_cols + 3, ldc = N + 7;
        const auto A = normal(size_t(a_rows * lda), 1), B = normal(size_t(b_rows * ldb), 2);
        const auto C0 = normal(size_t(M * ldc), 3);
        auto C = C0, C32 = C0;
        gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
        gemm_strict<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C32.data(), ldc);
        auto a = [&](int64_t i, int64_t t) { return ta ? A[size_t(t * lda + i)] : A[size_t(i * lda + t)]; };
        auto b = [&](int64_t t, int64_t j) { return tb ? B[size_t(j * ldb + t)] : B[size_t(t * ldb + j)]; };
        double worst = 0, from_fp32 = 0;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double ref = 0, mag = 0;
            for (int64_t t = 0; t < K; ++t) {
              const double p = double(rounded(a(i, t))) * double(rounded(b(t, j)));
              ref += p, mag += std::abs(p);
            }
            const size_t c = size_t(i * ldc + j);
            ref = alpha * ref + beta * double(C0[c]);
            // float32 sums: within K float32 roundings of the magnitudes
            worst = std::max(worst, std::abs(double(C[c]) - ref) / (mag * std::abs(alpha) + std::abs(beta * C0[c]) + 1e-30));
            from_fp32 = std::max(from_fp32, std::abs(double(C[c]) - double(C32[c])));
          }
        INFO("ta " << ta << " tb " << tb << " alpha " << alpha << " beta " << beta);
        CHECK(worst < 1e-5);
        CHECK(from_fp32 > 1e-3);  // the operands were rounded: not the float32 product
        // The columns past N in each row of C are not touched.
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = N; j < ldc; ++j) REQUIRE(C[size_t(i * ldc + j)] == C0[size_t(i * ldc + j)]);
      }
}

TEST_CASE("small products, and every product under fp32, stay float32 to the bit", "[bf16]") {
  const auto A = normal(64 * 64, 4), B = normal(64 * 64, 5);
  for (Precision p : {Precision::Fp32, Precision::Bf16}) {
    const PrecisionScope scope(p);
    for (int64_t n : {int64_t(64), int64_t(300)}) {
      const auto A2 = normal(size_t(n * 256), 6), B2 = normal(size_t(256 * 64), 7);
      std::vector<float> C(size_t(n * 64)), C32(size_t(n * 64));
      gemm<float>(false, false, n, 64, 256, 1.0f, A2.data(), 256, B2.data(), 64, 0.0f, C.data(), 64);
      gemm_strict<float>(false, false, n, 64, 256, 1.0f, A2.data(), 256, B2.data(), 64, 0.0f, C32.data(), 64);
      const bool small = n * 64 * 256 < kOnednnMinProduct;
      INFO("precision " << attn::to_string(p) << ", " << n << " x 64 x 256");
      if (p == Precision::Fp32 || small)
        CHECK(C == C32);
      else
        CHECK(C != C32);
    }
  }
}

}  // namespace test_bf16

namespace test_bf16 {

TEST_CASE("a weight rounded once for a scope gives the products it gives rounded per block, and only in the scope",
          "[bf16]") {
  const PrecisionScope bf16(Precision::Bf16);
  const int64_t N = 512, K = 256, M = 384;
  const auto x = normal(size_t(N * K), 8);
  auto w = normal(size_t(M * K), 9);  // (M, K), as a linear layer's weight
  auto product = [&](int64_t c0, int64_t n) {  // y (N, n) = x w[c0 : c0 + n]^T
    std::vector<float> y(size_t(N * n));
    gemm<float>(false, true, N, n, K, 1.0f, x.data(), K, w.data() + c0 * K, K, 0.0f, y.data(), n);
    return y;
  };
  const auto whole = product(0, M), part = product(128, 192);
  {
    const Bf16Constants scope({{w.data(), M, K}});
    CHECK((Bf16Constants::find(w.data(), M, K, K).first != nullptr) == bf16_native());
    CHECK(Bf16Constants::find(w.data() + 1, M, K, K).first == nullptr);  // would run past the last row
    CHECK(product(0, M) == whole);  // the same rounding, the same product
    const auto p = product(128, 192);  // rows 128..319 of the rounded copy, read in place
    double worst = 0;
    for (size_t i = 0; i < p.size(); ++i) worst = std::max(worst, double(std::abs(p[i] - part[i])));
    CHECK(worst < 1e-4);
  }
  CHECK(Bf16Constants::find(w.data(), M, K, K).first == nullptr);  // closed with its scope
  for (auto& v : w) v = -v;  // a weight changed after the scope: products see the change
  const auto after = product(0, M);
  for (size_t i = 0; i < after.size(); i += 97) REQUIRE(after[i] == -whole[i]);
}

}  // namespace test_bf16

namespace test_bf16 {

TEST_CASE("oneDNN's float32 products are float32 sums, each transposition, alpha and beta", "[bf16]") {
  const int64_t M = 200, N = 150, K = 80;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
      const auto A = normal(size_t((ta ? K : M) * lda), 11), B = normal(size_t((tb ? N : K) * ldb), 12);
      const auto C0 = normal(size_t(M * ldc), 13);
      auto C = C0;
      try {
        gemm_onednn_f32(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C.data(), ldc);
      } catch (const std::logic_error&) {
        WARN("this build has no oneDNN");
        return;
      }
      double worst = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double ref = 0, mag = 0;
          for (int64_t t = 0; t < K; ++t) {
            const double p = double(ta ? A[size_t(t * lda + i)] : A[size_t(i * lda + t)]) *
                             double(tb ? B[size_t(j * ldb + t)] : B[size_t(t * ldb + j)]);
            ref += p, mag += std::abs(p);
          }
          const size_t c = size_t(i * ldc + j);
          ref = 0.5 * ref + 0.25 * double(C0[c]);
          worst = std::max(worst, std::abs(double(C[c]) - ref) / (0.5 * mag + std::abs(0.25 * C0[c]) + 1e-30));
        }
      INFO("ta " << ta << " tb " << tb);
      CHECK(worst < 1e-5);
    }
}

}  // namespace test_bf16

namespace test_bf16 {

TEST_CASE("a translation model's loss and gradients under bf16 are float32's within bfloat16's error", "[bf16]") {
  torch::manual_seed(3);
  attn::ModelConfig m;
  m.d_model = 128, m.heads = 4, m.ffn_hidden = 512, m.layers = 2, m.norm = attn::NormPlacement::Pre;
  const int64_t V = 1000, B = 16, T = 20;  // 320 rows: every block product over 2^20 multiply-adds
  auto model = attn::build_seq2seq(m, V, V);
  const auto src = torch::randint(4, V, {B, T}), tgt = torch::randint(4, V, {B, T + 1});
  const auto in = tgt.narrow(1, 0, T), out = tgt.narrow(1, 1, T);
  auto run = [&](Precision p) {
    const PrecisionScope scope(p);
    model->zero_grad();
    auto loss = model->loss(src, in, out, {}, {}, 0.1).loss;
    loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& q : model->parameters())
      if (q.grad().defined()) g.push_back(q.grad().flatten().clone());
    return std::make_pair(loss.item<double>(), torch::cat(g).to(torch::kDouble));
  };
  const auto [l32, g32] = run(Precision::Fp32);
  const auto [l16, g16] = run(Precision::Bf16);
  const double cosine = (g32 * g16).sum().item<double>() / (g32.norm() * g16.norm()).item<double>();
  INFO("loss " << l32 << " (fp32) " << l16 << " (bf16); gradient cosine " << cosine);
  CHECK(std::abs(l16 - l32) < 5e-3 * l32);  // bfloat16 keeps 8 bits: ~0.4% per rounding
  CHECK(l16 != l32);                          // the products were rounded
  CHECK(cosine > 0.999);
}

}  // namespace test_bf16
