// The one-pass add & LayerNorm (attn/ops/fused_add_norm.h) against LibTorch's add and
// layer_norm: output and every gradient (x, r, weight, bias), float64 and float32, on every
// instruction set the kernels have here, for r like x, r repeated over the batch (positions)
// and no r; fresh random inputs (never zeros, weights not 1 and 0) in every case.
#include "attn/ops/fused_add_norm.h"

#include "attn/kernels/flash_kernels.h"
#include "attn/model/embeddings.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_fused_add_norm {

using namespace attn;
using attn::test::relative_error;

namespace {

struct Result {
  torch::Tensor y, dx, dr, dw, db;
};

// r: (B, T, D) like x, (T, D) for every set of the batch, or undefined.
Result run(bool fused, const torch::Tensor& x_in, const torch::Tensor& r_in, const torch::Tensor& w_in,
           const torch::Tensor& b_in, const torch::Tensor& grad, double eps) {
  auto x = x_in.clone().requires_grad_(), w = w_in.clone().requires_grad_(), b = b_in.clone().requires_grad_();
  torch::Tensor r = r_in.defined() ? r_in.clone().requires_grad_() : torch::Tensor();
  const int64_t D = x.size(-1);
  auto y = fused ? fused_add_norm(x, r, w, b, eps)
                 : torch::layer_norm(r.defined() ? x + r : x, {D}, w, b, eps);
  (y * grad).sum().backward();
  return {y.detach(), x.grad(), r.defined() ? r.grad() : torch::Tensor(), w.grad(), b.grad()};
}

void check_same(int64_t B, int64_t T, int64_t D, const std::string& r_kind, torch::Dtype dtype, double tolerance,
                double keep) {
  const auto o = torch::TensorOptions().dtype(dtype);
  const auto x = torch::randn({B, T, D}, o) * 2 + 0.5, grad = attn::test::keep_rows(torch::randn({B, T, D}, o), keep);
  const auto w = torch::randn({D}, o), b = torch::randn({D}, o);
  torch::Tensor r;
  if (r_kind == "like x") r = torch::randn({B, T, D}, o);
  if (r_kind == "positions") r = torch::randn({T, D}, o);
  const auto got = run(true, x, r, w, b, grad, 1e-6), want = run(false, x, r, w, b, grad, 1e-6);
  INFO("B " << B << " T " << T << " D " << D << " r " << r_kind << " " << dtype << " rows kept " << keep);
  REQUIRE(got.y.sizes() == want.y.sizes());
  CHECK(relative_error(got.y, want.y) < tolerance);
  CHECK(relative_error(got.dx, want.dx) < tolerance);
  CHECK(relative_error(got.dw, want.dw) < tolerance);
  CHECK(relative_error(got.db, want.db) < tolerance);
  if (r.defined()) {
    REQUIRE(got.dr.sizes() == r.sizes());
    CHECK(relative_error(got.dr, want.dr) < tolerance);
  }
}

}  // namespace

TEST_CASE("the fused add & LayerNorm matches LibTorch's add and layer_norm, output and gradients, on every "
          "instruction set",
          "[fused_norm]") {
  attn::test::seed();
  // Widths: the AVX-512 rows (multiples of 16: 32 as in the notebook, 64) and the plain loops
  // (8, 40); rows: one, fewer than a block (256), several blocks split unevenly.
  const std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 32}, {2, 37, 8}, {3, 100, 40}, {7, 200, 32}, {5, 61, 64}};
  for (const auto& isa : attn::test::isas_under_test()) {
    INFO("kernels: " << isa);
    REQUIRE(kernels::force_kernel_isa(isa));
    for (const auto& [B, T, D] : shapes)
      for (const std::string r_kind : {"like x", "positions", "none"})
        for (double keep : {1.0, 0.15}) {  // rows whose gradient is zero are written as zeros
          check_same(B, T, D, r_kind, torch::kFloat64, 1e-12, keep);
          check_same(B, T, D, r_kind, torch::kFloat32, 1e-5, keep);
        }
  }
  kernels::force_kernel_isa("");
}

TEST_CASE("the fused add & LayerNorm sums its weight gradients in a fixed order: the same bits on every run",
          "[fused_norm]") {
  attn::test::seed();
  const auto x = torch::randn({9, 150, 32}), r = torch::randn({9, 150, 32}), grad = torch::randn({9, 150, 32});
  const auto w = torch::randn({32}), b = torch::randn({32});
  const auto a = run(true, x, r, w, b, grad, 1e-6), c = run(true, x, r, w, b, grad, 1e-6);
  CHECK(torch::equal(a.y, c.y));
  CHECK(torch::equal(a.dx, c.dx));
  CHECK(torch::equal(a.dw, c.dw));
  CHECK(torch::equal(a.db, c.db));
}

TEST_CASE("the embeddings give the same output and gradients with the fused and LibTorch's LayerNorm",
          "[fused_norm]") {
  attn::test::seed();
  for (const auto positions : {Positions::Sinusoidal, Positions::Learned, Positions::None}) {
    INFO("positions " << to_string(positions));
    Embeddings fused(EmbeddingsOptions(50, 32).positions(positions).max_positions(64));
    Embeddings reference(EmbeddingsOptions(50, 32).positions(positions).max_positions(64));
    {
      torch::NoGradGuard no_grad;
      for (auto& p : fused->parameters()) p.copy_(torch::randn_like(p));
      for (size_t i = 0; i < fused->parameters().size(); ++i) reference->parameters()[i].copy_(fused->parameters()[i]);
    }
    const auto ids = torch::randint(0, 50, {4, 20}, torch::kLong);
    const auto grad = torch::randn({4, 20, 32});
    auto y1 = fused(ids, 3), y2 = attn::test::with_reference_kernels([&] { return reference(ids, 3); });
    CHECK(relative_error(y1, y2) < 1e-5);
    (y1 * grad).sum().backward();
    (y2 * grad).sum().backward();
    const auto a = fused->parameters(), b = reference->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].requires_grad()) continue;
      INFO("parameter " << i);
      CHECK(relative_error(a[i].grad(), b[i].grad()) < 1e-5);
    }
  }
}

TEST_CASE("the fused add & LayerNorm applies to float and double on the CPU only", "[fused_norm]") {
  const auto x = torch::randn({2, 3, 4});
  CHECK(fused_add_norm_applies(x));
  CHECK(fused_add_norm_applies(x.to(torch::kFloat64)));
  CHECK_FALSE(attn::test::with_reference_kernels([&] { return fused_add_norm_applies(x); }));
  CHECK_FALSE(fused_add_norm_applies(x.to(torch::kBFloat16)));
}

TEST_CASE("the fused add & LayerNorm refuses operands that do not fit x, naming the shapes", "[fused_norm][errors]") {
  const auto x = torch::randn({2, 3, 4});
  CHECK_THROWS_WITH(fused_add_norm(x, torch::Tensor(), torch::randn({5}), torch::randn({4}), 1e-6),
                    Catch::Contains("does not fit weight [5]"));
  CHECK_THROWS_WITH(fused_add_norm(x, torch::randn({5, 4}), torch::randn({4}), torch::randn({4}), 1e-6),
                    Catch::Contains("R dividing its 6 rows"));
  CHECK_THROWS_WITH(fused_add_norm(x, torch::Tensor(), torch::randn({4}, torch::kFloat64), torch::randn({4}), 1e-6),
                    Catch::Contains("dtype of x"));
}

}  // namespace test_fused_add_norm
