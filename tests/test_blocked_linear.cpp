// The blocked linear kernel (attn/ops/blocked_linear.h) against torch::nn::functional::linear:
// output and the gradients of x, w and b, float64 and float32, with and without bias, for row
// counts that are and are not a multiple of the block; fresh random inputs in every case.
#include "attn/ops/blocked_linear.h"

#include "attn/kernels/blas.h"
#include "attn/model/multi_head_attention.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_blocked_linear {

using namespace attn;

namespace {

struct Result {
  torch::Tensor y, dx, dw, db;
};

Result run(bool blocked, const torch::Tensor& x_in, const torch::Tensor& w_in, const torch::Tensor& b_in,
           const torch::Tensor& grad) {
  auto x = x_in.clone().requires_grad_(), w = w_in.clone().requires_grad_();
  auto b = b_in.defined() ? b_in.clone().requires_grad_() : torch::Tensor();
  auto y = blocked ? blocked_linear(x, w, b) : torch::nn::functional::linear(x, w, b);
  (y * grad).sum().backward();
  return {y.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : torch::Tensor()};
}

using attn::test::relative_error;

}  // namespace

TEST_CASE("the blocked linear layer matches torch's linear, output and gradients, float64 and float32",
          "[blocked_linear]") {
  attn::test::seed();
  // Rows (B * T): one, fewer than a block (128), a block and a bit, many blocks split unevenly.
  // K 64 x M 192 (the q/k/v projection of d_model 64) makes the blocks 80 rows (kernels::block_rows).
  // K 256 x M 768 (d_model 256) takes 512-row blocks through OpenBLAS's general path (1,200
  // rows: two blocks and a part).
  const std::vector<std::array<int64_t, 4>> shapes = {{1, 1, 4, 12}, {2, 37, 6, 18}, {3, 43, 8, 8}, {9, 200, 32, 96},
                                                      {2, 101, 64, 192}, {3, 400, 256, 768}};
  // Gradients with every row, ~15% of the rows (the rest skipped) and none.
  for (const auto& [B, T, K, M] : shapes)
    for (const auto dtype : {torch::kFloat64, torch::kFloat32})
      for (bool bias : {false, true})
        for (double keep : {1.0, 0.15, 0.0}) {
          const auto o = torch::TensorOptions().dtype(dtype);
          const auto x = torch::randn({B, T, K}, o), w = torch::randn({M, K}, o);
          const auto grad = attn::test::keep_rows(torch::randn({B, T, M}, o), keep);
          const auto b = bias ? torch::randn({M}, o) : torch::Tensor();
          REQUIRE(blocked_linear_applies(x));
          const auto got = run(true, x, w, b, grad), want = run(false, x, w, b, grad);
          const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
          INFO("B " << B << " T " << T << " K " << K << " M " << M << " " << dtype << (bias ? " bias" : "")
                    << " rows kept " << keep);
          REQUIRE(got.y.sizes() == want.y.sizes());
          CHECK(relative_error(got.y, want.y) < tolerance);
          CHECK(relative_error(got.dx, want.dx) < tolerance);
          CHECK(relative_error(got.dw, want.dw) < tolerance);
          if (bias) CHECK(relative_error(got.db, want.db) < tolerance);
        }
}

TEST_CASE("rows whose gradient is zero add nothing to the blocked linear layer's weight gradients: the other "
          "rows alone give the same bits",
          "[blocked_linear]") {
  attn::test::seed();
  const auto x = torch::randn({3000, 32}), w = torch::randn({96, 32}), b = torch::randn({96});
  const auto kept = torch::rand({3000}) < 0.15;                            // (rows)
  const auto grad = torch::randn({3000, 96}) * kept.view({3000, 1}).to(torch::kFloat32);
  const auto rows = kept.nonzero().squeeze(1);
  const auto all = run(true, x, w, b, grad), alone = run(true, x.index_select(0, rows), w, b, grad.index_select(0, rows));
  CHECK(torch::equal(all.dw, alone.dw));
  CHECK(torch::equal(all.db, alone.db));
  CHECK(torch::equal(all.dx.index_select(0, rows), alone.dx));
  CHECK(all.dx.index({~kept}).abs().max().item<double>() == 0.0);
}

TEST_CASE("multi-head attention gives the same outputs and gradients with blocked or torch projections",
          "[blocked_linear]") {
  // The fused kernel setting takes the blocked projections; the reference setting torch's.
  attn::test::seed();
  MultiHeadAttention fused(MultiHeadAttentionOptions(16, 2)), reference(MultiHeadAttentionOptions(16, 2));
  fused->to(torch::kFloat64), reference->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i) reference->parameters()[i].copy_(fused->parameters()[i]);
  }
  const auto x = torch::randn({3, 150, 16}, torch::kFloat64), grad = torch::randn({3, 150, 16}, torch::kFloat64);
  auto yf = fused->forward(x, x, x).output;
  auto yr = attn::test::with_reference_kernels([&] { return reference->forward(x, x, x).output; });
  (yf * grad).sum().backward(), (yr * grad).sum().backward();
  CHECK(relative_error(yf, yr) < 1e-12);
  for (size_t i = 0; i < fused->parameters().size(); ++i)
    CHECK(relative_error(fused->parameters()[i].grad(), reference->parameters()[i].grad()) < 1e-12);
}

TEST_CASE("the blocked linear layer refuses weights that do not fit x", "[blocked_linear][errors]") {
  const auto x = torch::randn({2, 3, 4});
  CHECK_THROWS_WITH(blocked_linear(x, torch::randn({5, 3}), torch::Tensor()), Catch::Contains("does not fit w [5, 3]"));
  CHECK_THROWS_WITH(blocked_linear(x, torch::randn({5, 4}), torch::randn({4})), Catch::Contains("does not fit"));
  CHECK_THROWS_WITH(blocked_linear(x, torch::randn({5, 4}, torch::kFloat64), torch::Tensor()),
                    Catch::Contains("dtype of x"));
  CHECK_FALSE(blocked_linear_applies(x.to(torch::kBFloat16)));
}

TEST_CASE("block rows keep each block product within OpenBLAS's small-matrix path where 32 rows or more fit, else "
          "512",
          "[blocked_linear]") {
  CHECK(kernels::block_rows(96, 32) == 128);    // the notebook's q/k/v projection: 325 would fit, 128 at most
  CHECK(kernels::block_rows(192, 64) == 80);    // d_model 64: 81 fit, a multiple of 16 below
  CHECK(kernels::block_rows(128, 64) == 112);   // 122 fit
  CHECK(kernels::block_rows(488, 64) == 32);    // 32 fit: still the small path
  CHECK(kernels::block_rows(768, 256) == 512);  // d_model 256: 5 would fit; the general path, 512 rows
  CHECK(kernels::block_rows(4096, 4096) == 512);
  for (const auto& [m, k] : std::vector<std::pair<int64_t, int64_t>>{{96, 32}, {192, 64}, {128, 64}, {256, 64}})
    CHECK(kernels::block_rows(m, k) * m * k <= 1000000);
}

}  // namespace test_blocked_linear
