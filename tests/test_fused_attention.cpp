// The tiled attention kernel against the reference computation: outputs and gradients, in
// float64 and float32, over random shapes, masks, causal attention, beta, soft and hard modes,
// and both backward schemes. Fresh random inputs (never zeros) in every case.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "attn/kernels/flash_kernels.h"
#include "attn/ops/fused_attention.h"
#include "attn/model/multi_head_attention.h"

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_fused_attention {

using namespace attn;

namespace {

struct Inputs {
  torch::Tensor q, k, v, mask, grad;  // grad: the upstream gradient of h
};

Inputs random_inputs(int64_t B, int64_t H, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, torch::Dtype dtype,
                     bool masked) {
  const auto o = torch::TensorOptions().dtype(dtype);
  Inputs in{torch::randn({B, H, Tq, D}, o), torch::randn({B, H, Tk, D}, o), torch::randn({B, H, Tk, Dv}, o),
            torch::Tensor(), torch::randn({B, H, Tq, Dv}, o)};
  if (masked) {
    in.mask = torch::rand({B, Tk}) < 0.3;                                  // (B, Tk), ~30% padding
    in.mask[0].fill_(true);                                                // a set that is all padding
  }
  return in;
}

struct Result {
  torch::Tensor h, dq, dk, dv;
  bool fused = false;  // the tiled kernel computed h (not LibTorch's operators)
};

Result run(const Inputs& in, AttentionOptions options) {
  auto q = in.q.clone().requires_grad_(), k = in.k.clone().requires_grad_(), v = in.v.clone().requires_grad_();
  auto h = scaled_dot_product_attention(q, k, v, in.mask, options).h;
  (h * in.grad).sum().backward();
  auto grad = [](const torch::Tensor& x) { return x.grad().defined() ? x.grad() : torch::zeros_like(x); };
  return {h.detach(), grad(q), grad(k), grad(v), attn::test::graph_has(h, "FusedAttentionFunction")};
}

using attn::test::relative_error;

void check_same(const Inputs& in, AttentionOptions options, double tolerance, const std::string& what) {
  const auto want = attn::test::with_reference_kernels([&] { return run(in, options); });
  const auto got = run(in, options);
  INFO(what);
  REQUIRE(got.fused);         // the comparison is of the kernel with the reference,
  REQUIRE_FALSE(want.fused);  // not of one path with itself
  REQUIRE(got.h.sizes() == want.h.sizes());
  CHECK(relative_error(got.h, want.h) < tolerance);
  CHECK(relative_error(got.dq, want.dq) < tolerance);
  CHECK(relative_error(got.dk, want.dk) < tolerance);
  CHECK(relative_error(got.dv, want.dv) < tolerance);
  CHECK_FALSE(got.h.isnan().any().item<bool>());
}

std::string describe(int64_t B, int64_t H, int64_t Tq, int64_t Tk, int64_t D, int64_t Dv, bool masked, bool causal,
                     double beta, const char* mode) {
  std::ostringstream s;
  s << "B " << B << " H " << H << " Tq " << Tq << " Tk " << Tk << " D " << D << " Dv " << Dv
    << (masked ? " masked" : "") << (causal ? " causal" : "") << " beta " << beta << " " << mode;
  return s.str();
}

struct Shape {
  int64_t B, H, Tq, Tk, D, Dv;
};

// Tiles are at most 64 queries x 256 keys: these cover one element, a single partial tile,
// t not divisible by the tile, several key tiles, Tq != Tk both ways, and D != Dv; widths of
// 16, 32 and 48 take the AVX-512 transpose of the key and value tiles (16 x 16 blocks).
const std::vector<Shape> kShapes = {{1, 1, 1, 1, 4, 4},    {2, 2, 5, 7, 8, 8},     {1, 3, 65, 65, 16, 8},
                                    {2, 2, 200, 200, 16, 16}, {1, 2, 70, 300, 8, 12}, {2, 1, 300, 33, 4, 4},
                                    {1, 1, 130, 530, 16, 16}, {1, 2, 40, 50, 32, 48}};

void sweep(torch::Dtype dtype, double tolerance, FusedBackward scheme) {
  set_fused_backward(scheme);
  for (const auto& s : kShapes)
    for (bool masked : {false, true})
      for (bool causal : {false, true})
        for (double beta : {0.25, 1.0 / std::sqrt(double(s.D)), 2.0}) {
          const auto in = random_inputs(s.B, s.H, s.Tq, s.Tk, s.D, s.Dv, dtype, masked);
          check_same(in, AttentionOptions().beta(beta).causal(causal), tolerance,
                     describe(s.B, s.H, s.Tq, s.Tk, s.D, s.Dv, masked, causal, beta, "soft"));
          if (dtype == torch::kFloat64)  // hard: float32 rounding may flip near-ties, float64 does not here
            for (auto g : {HardGradient::StraightThrough, HardGradient::None})
              check_same(in, AttentionOptions().beta(beta).causal(causal).mode(AttentionMode::Hard).hard_gradient(g),
                         tolerance,
                         describe(s.B, s.H, s.Tq, s.Tk, s.D, s.Dv, masked, causal, beta,
                                  g == HardGradient::None ? "hard, no gradient" : "hard, straight-through"));
        }
  set_fused_backward(FusedBackward::Auto);
}

}  // namespace

// Every instruction set under test (attn::test::isas_under_test: all this build and CPU can run,
// or the one ATTN_KERNEL_ISA names); the dispatcher alone would pick only the widest.
template <typename F>
void for_each_isa(F&& f) {
  for (const auto& isa : attn::test::isas_under_test()) {
    INFO("kernels: " << isa);
    REQUIRE(kernels::force_kernel_isa(isa));
    f();
  }
  kernels::force_kernel_isa("");
}

TEST_CASE("fused attention equals the reference in float64 (outputs and gradients, every mode)",
          "[fused_attention]") {
  attn::test::seed();
  for_each_isa([] {
    for (auto scheme : {FusedBackward::PerHead, FusedBackward::Split}) sweep(torch::kFloat64, 1e-10, scheme);
  });
}

TEST_CASE("fused attention equals the reference in float32 to 1e-5 relative", "[fused_attention]") {
  attn::test::seed();
  for_each_isa([] {
    for (auto scheme : {FusedBackward::PerHead, FusedBackward::Split}) sweep(torch::kFloat32, 1e-5, scheme);
  });
}

TEST_CASE("fused hard attention in float32 picks the reference's keys when scores are exact",
          "[fused_attention]") {
  // Small integer entries make every score exact in float32, so ties are real ties and both
  // paths must break them alike (first maximal key).
  attn::test::seed();
  auto in = random_inputs(2, 2, 40, 90, 4, 4, torch::kFloat32, /*masked=*/true);
  in.q = torch::randint(-2, 3, in.q.sizes()).to(torch::kFloat32);
  in.k = torch::randint(-2, 3, in.k.sizes()).to(torch::kFloat32);
  check_same(in, AttentionOptions().beta(1.0).mode(AttentionMode::Hard), 1e-6, "hard, integer scores");
}

TEST_CASE("the two backward schemes of the fused kernel agree bit for bit", "[fused_attention]") {
  attn::test::seed();
  const auto in = random_inputs(2, 3, 150, 600, 16, 16, torch::kFloat32, true);
  set_fused_backward(FusedBackward::PerHead);
  const auto a = run(in, AttentionOptions().causal(true));
  set_fused_backward(FusedBackward::Split);
  const auto b = run(in, AttentionOptions().causal(true));
  set_fused_backward(FusedBackward::Auto);
  CHECK(torch::equal(a.dq, b.dq));
  CHECK(torch::equal(a.dk, b.dk));
  CHECK(torch::equal(a.dv, b.dv));
}

TEST_CASE("a query that sees no key gets h = 0 and no gradient from the fused kernel", "[fused_attention]") {
  attn::test::seed();
  auto in = random_inputs(1, 2, 6, 9, 8, 8, torch::kFloat32, true);        // set 0 is all padding
  const auto r = run(in, AttentionOptions());
  CHECK(r.h.abs().max().item<double>() == 0.0);
  CHECK(r.dq.abs().max().item<double>() == 0.0);
  CHECK(r.dk.abs().max().item<double>() == 0.0);
  CHECK(r.dv.abs().max().item<double>() == 0.0);
}

// The upstream gradient with whole query rows zeroed: each query keeps its gradient with
// probability `keep`, for all heads at once (what max-pooling and the layers after attention give)
// or per head.
torch::Tensor zero_query_rows(const torch::Tensor& grad, double keep, bool per_head) {
  const auto B = grad.size(0), H = grad.size(1), Tq = grad.size(2);
  auto kept = torch::rand({B, per_head ? H : 1, Tq, 1}) < keep;             // (B, H or 1, Tq, 1)
  return grad * kept.to(grad.scalar_type());
}

TEST_CASE("fused attention's backward over the queries that have a gradient equals the reference",
          "[fused_attention]") {
  // Queries whose output gradient is zero are left out of the backward products (gathered
  // backward, up to 3/4 of the queries); the fractions cross that threshold both ways.
  attn::test::seed();
  for_each_isa([] {
    for (auto dtype : {torch::kFloat64, torch::kFloat32})
      for (const auto& s : kShapes)
        for (double keep : {0.0, 0.15, 0.5, 0.75, 0.9})
          for (bool per_head : {false, true})
            for (bool masked : {false, true}) {
              auto in = random_inputs(s.B, s.H, s.Tq, s.Tk, s.D, s.Dv, dtype, masked);
              in.grad = zero_query_rows(in.grad, keep, per_head);
              const bool causal = s.Tq == 65;  // causal falls back to every query; one shape checks it
              check_same(in, AttentionOptions().beta(0.25).causal(causal), dtype == torch::kFloat64 ? 1e-10 : 1e-5,
                         describe(s.B, s.H, s.Tq, s.Tk, s.D, s.Dv, masked, causal, 0.25, "soft") + " keep " +
                             std::to_string(keep) + (per_head ? " per head" : ""));
            }
  });
}

TEST_CASE("a query with a zero output gradient adds nothing: it is skipped, and the others alone give dk and dv",
          "[fused_attention]") {
  // The set's backward with some queries' gradients zero against the backward of the set made of
  // its other queries only. What the kernel guarantees on any BLAS:
  // - the zero rows are skipped, not multiplied by zero: their queries are made NaN here, and
  //   dk and dv stay finite (0 * NaN would spread through every key's dS column otherwise);
  // - dq is exactly 0 on those rows (written by the kernel, no product involved);
  // - dk, dv and the other rows' dq equal the smaller set's up to float32 rounding. Not bit for
  //   bit: the full set's forward computes its outputs in query tiles of 50 rows, the smaller
  //   set's in one of 40, and OpenBLAS's Haswell and Prescott kernels round a row's sums
  //   differently with the number of rows (its SkylakeX kernel does not); the outputs feed dS
  //   through drow = dO . O. Measured (seeds 1-3): up to 5.3e-7 of the largest gradient with the
  //   Haswell kernel, 1.3e-7 with Prescott, 0 with SkylakeX; the bound, 8 * 200 * 2^-24 (~1e-4),
  //   is the worst-case rounding of a 200-term float32 sum, taken twice, through two products.
  //   Without the skipping (ATTN_SKIP_ZERO_ROWS=0) the NaN checks fail.
  attn::test::seed();
  const double bound = 8 * 200 * std::ldexp(1.0, -24);
  for (bool masked : {false, true}) {
    INFO((masked ? "masked" : "unmasked"));
    auto in = random_inputs(1, 1, 200, 200, 16, 16, torch::kFloat32, masked);
    if (masked) in.mask[0] = torch::rand({200}) < 0.3;                     // not all padding here
    const auto kept = torch::rand({200}) < 0.2;                            // (Tq)
    in.grad.index_put_({0, 0, ~kept}, 0.0);
    const auto rows = kept.nonzero().squeeze(1);                           // the queries with a gradient
    auto alone = in;
    alone.q = in.q.index_select(2, rows), alone.grad = in.grad.index_select(2, rows);
    auto poisoned = in;
    poisoned.q = in.q.clone();
    poisoned.q.index_put_({0, 0, ~kept}, std::numeric_limits<float>::quiet_NaN());
    set_fused_backward(FusedBackward::PerHead);  // (b, h) tasks: the scheme that gathers
    const auto full = run(in, AttentionOptions().beta(0.25));
    const auto part = run(alone, AttentionOptions().beta(0.25));
    const auto nan = run(poisoned, AttentionOptions().beta(0.25));
    set_fused_backward(FusedBackward::Auto);
    CHECK(relative_error(full.dk, part.dk) < bound);
    CHECK(relative_error(full.dv, part.dv) < bound);
    CHECK(relative_error(full.dq.index_select(2, rows), part.dq) < bound);
    CHECK(full.dq.index({0, 0, ~kept}).abs().max().item<double>() == 0.0);
    CHECK(torch::equal(nan.dk, full.dk));  // the same products over the same rows: skipped rows change nothing
    CHECK(torch::equal(nan.dv, full.dv));
    CHECK(torch::equal(nan.dq, full.dq));
  }
}

TEST_CASE("multi-head attention gives the same outputs and parameter gradients with either kernel",
          "[fused_attention][mha]") {
  attn::test::seed();
  auto x = torch::randn({3, 50, 32});                                      // (B, T, D)
  auto mask = torch::rand({3, 50}) < 0.2;                                  // (B, T)
  MultiHeadAttention fused(MultiHeadAttentionOptions(32, 2)), reference(MultiHeadAttentionOptions(32, 2));
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i)
      reference->parameters()[i].copy_(fused->parameters()[i]);
  }
  auto g = torch::randn({3, 50, 32});
  auto yf = fused->forward(x, x, x, mask).output;
  auto yr = attn::test::with_reference_kernels([&] { return reference->forward(x, x, x, mask).output; });
  REQUIRE(attn::test::graph_has(yf, "AttentionFunction"));        // the tiled kernel ran in the module
  REQUIRE_FALSE(attn::test::graph_has(yr, "AttentionFunction"));  // and LibTorch's operators in the reference
  (yf * g).sum().backward();
  (yr * g).sum().backward();
  CHECK(relative_error(yf, yr) < 1e-5);
  for (size_t i = 0; i < fused->parameters().size(); ++i)
    CHECK(relative_error(fused->parameters()[i].grad(), reference->parameters()[i].grad()) < 1e-5);
}

TEST_CASE("the fused kernel is used only where it applies", "[fused_attention]") {
  const auto q = torch::randn({1, 1, 2, 4});
  CHECK(fused_attention_applies(q, false, 0.0));
  CHECK_FALSE(attn::test::with_reference_kernels([&] { return fused_attention_applies(q, false, 0.0); }));
  CHECK_FALSE(fused_attention_applies(q, /*need_weights=*/true, 0.0));
  CHECK_FALSE(fused_attention_applies(q, false, /*dropout=*/0.1));
  CHECK_FALSE(fused_attention_applies(q.to(torch::kBFloat16), false, 0.0));
  const auto isa = fused_attention_isa();
  CHECK((isa == "avx512" || isa == "avx2" || isa == "generic"));
  // The widest this CPU and build have, unless ATTN_KERNEL_ISA names a narrower one they have.
  const auto usable = kernels::kernel_isas();
  const char* env = std::getenv("ATTN_KERNEL_ISA");
  const bool env_usable = env && std::find(usable.begin(), usable.end(), env) != usable.end();
  CHECK(isa == (env_usable ? std::string(env) : usable.front()));
  CHECK_FALSE(kernels::force_kernel_isa("sse9"));
}

}  // namespace test_fused_attention
