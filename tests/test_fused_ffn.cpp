// The blocked 1-convolution kernel (attn/ops/fused_ffn.h) against the module's two linear
// layers: output and every gradient, float64 and float32, over shapes whose row count is and is
// not a multiple of the kernel's block; fresh random inputs (never zeros) in every case.
#include "attn/ops/fused_ffn.h"

#include <ATen/Parallel.h>

#include "attn/model/conv_ffn.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_fused_ffn {

using namespace attn;

namespace {

struct Result {
  torch::Tensor y, dx, dw1, db1, dw2, db2;
};

// A module with random weights (biases included: the default init would hide a missing one).
ConvFeedForward random_ffn(int64_t D, int64_t F, torch::Dtype dtype) {
  ConvFeedForward ffn(ConvFeedForwardOptions(D, F));
  ffn->to(dtype);
  torch::NoGradGuard no_grad;
  for (auto& p : ffn->parameters()) p.copy_(torch::randn_like(p) * 0.5);
  return ffn;
}

Result run(ConvFeedForward& ffn, const torch::Tensor& x_in, const torch::Tensor& grad) {
  ffn->zero_grad();
  auto x = x_in.clone().requires_grad_();
  auto y = ffn(x);
  (y * grad).sum().backward();
  return {y.detach(), x.grad(), ffn->k1convL1->weight.grad().clone(), ffn->k1convL1->bias.grad().clone(),
          ffn->k1convL2->weight.grad().clone(), ffn->k1convL2->bias.grad().clone()};
}

using attn::test::relative_error;

void check_same(int64_t B, int64_t T, int64_t D, int64_t F, torch::Dtype dtype, double tolerance, double keep) {
  auto fused = random_ffn(D, F, dtype);
  auto reference = random_ffn(D, F, dtype);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i)
      reference->parameters()[i].copy_(fused->parameters()[i]);
  }
  const auto o = torch::TensorOptions().dtype(dtype);
  const auto x = torch::randn({B, T, D}, o), grad = attn::test::keep_rows(torch::randn({B, T, D}, o), keep);
  REQUIRE(fused->runs_fused(x));
  const auto got = run(fused, x, grad);
  const auto want = attn::test::with_reference_kernels([&] { return run(reference, x, grad); });
  INFO("B " << B << " T " << T << " D " << D << " F " << F << " " << dtype << " rows kept " << keep);
  REQUIRE(got.y.sizes() == want.y.sizes());
  CHECK(relative_error(got.y, want.y) < tolerance);
  CHECK(relative_error(got.dx, want.dx) < tolerance);
  CHECK(relative_error(got.dw1, want.dw1) < tolerance);
  CHECK(relative_error(got.db1, want.db1) < tolerance);
  CHECK(relative_error(got.dw2, want.dw2) < tolerance);
  CHECK(relative_error(got.db2, want.db2) < tolerance);
}

}  // namespace

TEST_CASE("the fused 1-convolution matches its two linear layers, output and gradients, float64 and float32",
          "[fused_ffn]") {
  attn::test::seed();
  // Rows (B * T): one, fewer than a block (128), a block and a bit, many blocks split unevenly;
  // D 64 x F 256 makes the blocks 48 rows (kernels::block_rows); D 256 x F 1024 512 rows through
  // OpenBLAS's general path (1,200 rows: two blocks and a part).
  const std::vector<std::array<int64_t, 4>> shapes = {{1, 1, 4, 8},    {2, 37, 6, 24},   {3, 43, 8, 32},
                                                      {7, 200, 32, 128}, {5, 61, 16, 8}, {2, 75, 64, 256},
                                                      {3, 400, 256, 1024}};
  // Gradients with every row, ~15% of the rows (the rest skipped) and none.
  for (const auto& [B, T, D, F] : shapes)
    for (double keep : {1.0, 0.15, 0.0}) {
      check_same(B, T, D, F, torch::kFloat64, 1e-12, keep);
      check_same(B, T, D, F, torch::kFloat32, 1e-5, keep);
    }
}

TEST_CASE("the fused 1-convolution with the residual inside equals x plus the two linear layers, output and "
          "gradients",
          "[fused_ffn]") {
  attn::test::seed();
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 1e-5;
    for (const auto& [B, T, D, F] : std::vector<std::array<int64_t, 4>>{{1, 1, 4, 8}, {3, 43, 8, 32}, {7, 200, 32, 128}}) {
      auto fused = random_ffn(D, F, dtype), reference = random_ffn(D, F, dtype);
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < fused->parameters().size(); ++i) reference->parameters()[i].copy_(fused->parameters()[i]);
      }
      const auto o = torch::TensorOptions().dtype(dtype);
      const auto x = torch::randn({B, T, D}, o);
      const auto grad = attn::test::keep_rows(torch::randn({B, T, D}, o), B * T > 1000 ? 0.15 : 1.0);
      auto x1 = x.clone().requires_grad_(), x2 = x.clone().requires_grad_();
      auto y1 = fused->forward_residual(x1);
      auto y2 = attn::test::with_reference_kernels([&] { return x2 + reference(x2); });
      (y1 * grad).sum().backward();
      (y2 * grad).sum().backward();
      INFO("B " << B << " T " << T << " D " << D << " F " << F << " " << dtype);
      CHECK(relative_error(y1, y2) < tolerance);
      CHECK(relative_error(x1.grad(), x2.grad()) < tolerance);
      for (size_t i = 0; i < fused->parameters().size(); ++i)
        CHECK(relative_error(fused->parameters()[i].grad(), reference->parameters()[i].grad()) < tolerance);
    }
  }
}

TEST_CASE("the fused 1-convolution sums its weight gradients in a fixed order: the same bits on every run",
          "[fused_ffn]") {
  attn::test::seed();
  auto ffn = random_ffn(16, 64, torch::kFloat32);
  const auto x = torch::randn({9, 150, 16}), grad = torch::randn({9, 150, 16});
  const auto a = run(ffn, x, grad), b = run(ffn, x, grad);
  CHECK(torch::equal(a.dw1, b.dw1));
  CHECK(torch::equal(a.db1, b.db1));
  CHECK(torch::equal(a.dw2, b.dw2));
  CHECK(torch::equal(a.dx, b.dx));
}

TEST_CASE("the fused 1-convolution gives the same bits whether it keeps its hidden layer for backward or not",
          "[fused_ffn]") {
  // Training at D >= 128 keeps h (N, F) for backward (kernels::ffn_keeps_hidden); evaluation,
  // and training at a smaller D, do not: the output must not depend on it.
  attn::test::seed();
  for (const int64_t D : {32, 128}) {
    auto ffn = random_ffn(D, 4 * D, torch::kFloat32);
    const auto x = torch::randn({5, 70, D});
    const auto trained = ffn(x.clone().requires_grad_()).detach();
    torch::Tensor evaluated;
    {
      torch::NoGradGuard no_grad;
      evaluated = ffn(x);
    }
    INFO("D " << D);
    CHECK(torch::equal(trained, evaluated));
  }
}

TEST_CASE("rows whose gradient is zero add nothing to the 1-convolution's weight gradients: the other rows "
          "alone give the same bits",
          "[fused_ffn]") {
  // Backward skips them (gathers the rest): the weight gradients equal those of a batch made of
  // the other rows only, bit for bit, and their dx is exactly 0.
  attn::test::seed();
  auto ffn = random_ffn(32, 128, torch::kFloat32);
  const auto x = torch::randn({1, 3000, 32});
  const auto kept = torch::rand({3000}) < 0.15;                            // (rows)
  const auto grad = torch::randn({1, 3000, 32}) * kept.view({1, 3000, 1}).to(torch::kFloat32);
  const auto rows = kept.nonzero().squeeze(1);
  const auto all = run(ffn, x, grad), alone = run(ffn, x.index_select(1, rows), grad.index_select(1, rows));
  CHECK(torch::equal(all.dw1, alone.dw1));
  CHECK(torch::equal(all.db1, alone.db1));
  CHECK(torch::equal(all.dw2, alone.dw2));
  CHECK(torch::equal(all.db2, alone.db2));
  CHECK(torch::equal(all.dx.index_select(1, rows), alone.dx));
  CHECK(all.dx.index({0, ~kept}).abs().max().item<double>() == 0.0);
}

TEST_CASE("the fused 1-convolution applies only where it computes the same function", "[fused_ffn]") {
  const auto x = torch::randn({2, 3, 4});
  const auto relu = Activation::ReLU;
  CHECK(fused_ffn_applies(x, relu, 0.0, true));
  CHECK(fused_ffn_applies(x.to(torch::kFloat64), relu, 0.0, true));
  CHECK_FALSE(attn::test::with_reference_kernels([&] { return fused_ffn_applies(x, relu, 0.0, true); }));
  CHECK_FALSE(fused_ffn_applies(x, Activation::GELU, 0.0, false));
  CHECK_FALSE(fused_ffn_applies(x, relu, 0.1, true));
  CHECK(fused_ffn_applies(x, relu, 0.1, false));  // no dropout in eval
  CHECK_FALSE(fused_ffn_applies(x.to(torch::kBFloat16), relu, 0.0, false));
  // A GELU module computes GELU, whatever the kernel switch says.
  ConvFeedForward gelu(ConvFeedForwardOptions(4, 8).activation(Activation::GELU));
  ConvFeedForward gelu_ref(ConvFeedForwardOptions(4, 8).activation(Activation::GELU));
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < gelu->parameters().size(); ++i) gelu_ref->parameters()[i].copy_(gelu->parameters()[i]);
  }
  CHECK(torch::equal(gelu(x), attn::test::with_reference_kernels([&] { return gelu_ref(x); })));
}

TEST_CASE("the fused 1-convolution refuses weights that do not fit x, naming the shapes", "[fused_ffn][errors]") {
  const auto x = torch::randn({2, 3, 4});
  CHECK_THROWS_WITH(fused_ffn(x, torch::randn({8, 5}), torch::randn({8}), torch::randn({4, 8}), torch::randn({4})),
                    Catch::Contains("does not fit w1 [8, 5]"));
  CHECK_THROWS_WITH(fused_ffn(x, torch::randn({8, 4}), torch::randn({8}), torch::randn({4, 8}, torch::kFloat64),
                              torch::randn({4})),
                    Catch::Contains("dtype of x"));
}

}  // namespace test_fused_ffn
