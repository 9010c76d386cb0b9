// set_max_pool (attn/ops/set_max_pool.h) against LibTorch's masked_fill + max, the formulation
// pool_max used before it: values and gradients bit for bit, float and double, with and without
// padding, sets that are all padding (0, no gradient), and NaN carried through as torch::max does.
#include "attn/ops/set_max_pool.h"

#include <limits>

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_set_max_pool {

using namespace attn;

namespace {

torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& padding) {
  if (!padding.defined()) return std::get<0>(x.max(1));
  auto pooled = std::get<0>(x.masked_fill(padding.unsqueeze(-1), -std::numeric_limits<double>::infinity()).max(1));
  return pooled.masked_fill(padding.all(1, /*keepdim=*/true), 0.0);
}

void check_same(int64_t B, int64_t T, int64_t D, bool padded, torch::Dtype dtype) {
  const auto o = torch::TensorOptions().dtype(dtype);
  const auto x = torch::randn({B, T, D}, o), grad = torch::randn({B, D}, o);
  torch::Tensor padding;
  if (padded) {
    padding = torch::rand({B, T}) < 0.3;
    padding[0].fill_(true);  // one set all padding
  }
  auto a = x.clone().requires_grad_(), b = x.clone().requires_grad_();
  auto got = set_max_pool(a, padding), want = reference(b, padding);
  INFO("B " << B << " T " << T << " D " << D << (padded ? " padded " : " ") << dtype);
  CHECK(torch::equal(got, want));
  (got * grad).sum().backward();
  (want * grad).sum().backward();
  CHECK(torch::equal(a.grad(), b.grad()));
  if (padded) CHECK(torch::equal(got[0], torch::zeros({D}, o)));
}

}  // namespace

TEST_CASE("set_max_pool gives LibTorch's masked max and its gradient, bit for bit", "[pool]") {
  attn::test::seed();
  for (const auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const bool padded : {false, true}) {
      check_same(1, 1, 3, padded, dtype);
      check_same(5, 37, 8, padded, dtype);
      check_same(164, 200, 32, padded, dtype);
    }
}

TEST_CASE("set_max_pool carries NaN as torch::max does", "[pool]") {
  auto x = torch::randn({2, 4, 3});
  x[1][2][0] = std::numeric_limits<float>::quiet_NaN();
  const auto got = set_max_pool(x, torch::Tensor()), want = std::get<0>(x.max(1));
  CHECK(std::isnan(got[1][0].item<float>()));
  CHECK(torch::equal(got.narrow(1, 1, 2), want.narrow(1, 1, 2)));
  CHECK(torch::equal(got[0], want[0]));
}

TEST_CASE("set_max_pool refuses a padding mask of the wrong shape", "[pool][errors]") {
  CHECK_THROWS_WITH(set_max_pool(torch::randn({2, 4, 3}), torch::zeros({2, 5}, torch::kBool)),
                    Catch::Contains("padding must be bool (B, T) = (2, 4)"));
}

}  // namespace test_set_max_pool
