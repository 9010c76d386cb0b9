// The few-rows path of the blocked kernels' forward passes (attn/ops/blocked_linear.h: a decoding
// step's rows, one product with the weight read in place) against torch's linear: float64 to
// 1e-12 and float32 to 1e-5, with and without bias, ReLU and an added residual; the fused
// feed-forward and the blocked linear layer take it for few rows and still match their references.
// Up to kStepRows rows the products run in blocks of output columns, against the same references.
#include "attn/ops/blocked_linear.h"
#include "attn/ops/fused_ffn.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_few_rows_linear {

using namespace attn;
using attn::test::relative_error;

namespace {

torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, bool relu,
                        const torch::Tensor& add) {
  auto y = torch::nn::functional::linear(x, w, b);                        // (N, M)
  if (relu) y = torch::relu(y);
  return add.defined() ? y + add : y;
}

// few_rows_linear against torch's linear for each (N, K, M), float64 and float32, with bias,
// bias + ReLU, bias + residual and none; `view`: the weight is rows of a larger matrix and the
// bias every other element of a longer vector.
void check_shapes(const std::vector<std::array<int64_t, 3>>& shapes, bool view) {
  for (const auto& [N, K, M] : shapes)
    for (const auto dtype : {torch::kFloat64, torch::kFloat32})
      for (int variant = 0; variant < 4; ++variant) {
        const auto o = torch::TensorOptions().dtype(dtype);
        const auto x = torch::randn({N, K}, o);
        const auto w = view ? torch::randn({M + 3, K}, o).narrow(0, 2, M) : torch::randn({M, K}, o);
        const auto b = variant == 3 ? torch::Tensor()
                       : view       ? torch::randn({2 * M}, o).slice(0, 0, 2 * M, 2)  // every other element
                                    : torch::randn({M}, o);
        const bool relu = variant == 1;
        const auto add = variant == 2 ? torch::randn({N, M}, o) : torch::Tensor();
        INFO("N " << N << " K " << K << " M " << M << " " << dtype << " variant " << variant);
        const auto got = few_rows_linear(x, w, b, relu, add), want = reference(x, w, b, relu, add);
        REQUIRE(got.sizes() == want.sizes());
        CHECK(relative_error(got, want) < (dtype == torch::kFloat64 ? 1e-12 : 1e-5));
      }
}

}  // namespace

TEST_CASE("few_rows_linear matches torch's linear, with bias, ReLU and a residual", "[few_rows]") {
  attn::test::seed();
  check_shapes({{1, 1, 1}, {2, 7, 3}, {16, 33, 37}, {80, 64, 129}}, /*view=*/false);
}

TEST_CASE("the fused feed-forward and the blocked linear layer on few rows match their references",
          "[few_rows]") {
  attn::test::seed();
  const auto o = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t N = 16, D = 24, F = 40;
  REQUIRE(N <= kFewRows);
  const auto x = torch::randn({2, N / 2, D}, o), w1 = torch::randn({F, D}, o), b1 = torch::randn({F}, o);
  const auto w2 = torch::randn({D, F}, o), b2 = torch::randn({D}, o);
  namespace Fn = torch::nn::functional;
  const auto ffn = Fn::linear(torch::relu(Fn::linear(x, w1, b1)), w2, b2);  // (2, N/2, D)
  CHECK(relative_error(fused_ffn(x, w1, b1, w2, b2), ffn) < 1e-12);
  CHECK(relative_error(fused_ffn(x, w1, b1, w2, b2, /*residual=*/true), x + ffn) < 1e-12);
  CHECK(relative_error(blocked_linear(x, w1, b1), Fn::linear(x, w1, b1)) < 1e-12);
  CHECK(relative_error(blocked_linear(x, w1, torch::Tensor()), Fn::linear(x, w1)) < 1e-12);
}

TEST_CASE("a decoding step's rows multiply in blocks of output columns that OpenBLAS's small-matrix path "
          "takes, and match torch's linear", "[few_rows][decoding]") {
  attn::test::seed();
  CHECK(step_columns(16, 256) == 64);   // 16 x 64 <= 1,200
  CHECK(step_columns(16, 1024) == 48);  // 16 x 1024 x 48 <= 1e6
  CHECK(step_columns(8, 256) == 128);
  CHECK(step_columns(kStepRows, 256) == 32);
  CHECK(step_columns(1, 1 << 20) == 16);
  // Column counts that leave a last partial block, a single block, rows up to kStepRows, K past
  // one block's small-matrix bound, a weight that is a view (rows of a larger matrix).
  check_shapes({{1, 1, 1}, {3, 7, 300}, {16, 256, 1000}, {kStepRows, 64, 129}, {5, 1024, 40}, {16, 256, 64}},
               /*view=*/true);
}

}  // namespace test_few_rows_linear
