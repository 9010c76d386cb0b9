// Dropout from a counter-based stream (attn/ops/dropout.h) against what torch::dropout
// promises: each element zeroed with probability p (statistical bounds over a million elements,
// neighbours independent), the kept ones scaled by exactly 1/(1-p), backward through the same
// mask; repeatable under torch::manual_seed, fresh on every call, the same bits for any thread
// count and kernel instruction set; identity outside training.
#include "attn/ops/dropout.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "attn/kernels/dropout_kernels.h"
#include "attn/kernels/flash_kernels.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_dropout {

using namespace attn;

namespace {

// Inputs without zeros, so that y == 0 means "dropped".
torch::Tensor nonzero_input(int64_t n, torch::Dtype dtype) { return torch::rand({n}, dtype) + 1.0; }

}  // namespace

TEST_CASE("dropout zeroes each element with probability p, independently of its neighbours, and scales the rest "
          "by 1/(1-p)",
          "[dropout]") {
  attn::test::seed();
  const int64_t n = 1 << 20;
  for (const auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const double p : {0.1, 0.3, 0.5, 0.9}) {
      INFO("p " << p << " " << dtype);
      const auto x = nonzero_input(n, dtype);
      const auto y = attn::dropout(x, p, /*training=*/true);
      const auto kept = y != 0;
      const double q = 1 - p, sigma = std::sqrt(p * q / n);
      CHECK(std::abs(1.0 - kept.to(torch::kDouble).mean().item<double>() - p) < 5 * sigma);
      // pairs of neighbours and of elements 16 apart (one vector's lanes) both kept: q^2
      for (const int64_t gap : {1, 16}) {
        const auto both = kept.narrow(0, 0, n - gap).logical_and(kept.narrow(0, gap, n - gap));
        const double sigma2 = std::sqrt(q * q * (1 - q * q) / double(n - gap));
        CHECK(std::abs(both.to(torch::kDouble).mean().item<double>() - q * q) < 6 * sigma2);
      }
      const auto scale = torch::tensor(1.0 / (1.0 - p), torch::TensorOptions().dtype(dtype));
      CHECK(torch::equal(y.masked_select(kept), x.masked_select(kept) * scale));
    }
}

TEST_CASE("dropout's gradient goes through the mask of its forward pass, scaled by 1/(1-p)", "[dropout]") {
  attn::test::seed();
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto x = nonzero_input(5000, dtype).view({50, 100}).requires_grad_();
    const auto grad = torch::randn({50, 100}, dtype);
    const auto y = attn::dropout(x, 0.3, true);
    (y * grad).sum().backward();
    const auto scale = torch::tensor(1.0 / 0.7, torch::TensorOptions().dtype(dtype));
    CHECK(torch::equal(x.grad(), torch::where(y != 0, grad * scale, torch::zeros_like(grad))));
  }
}

TEST_CASE("dropout repeats under torch::manual_seed, differs from call to call, and gives the same bits for any "
          "thread count and kernel instruction set",
          "[dropout]") {
  const auto x = nonzero_input(100003, torch::kFloat32);  // a vector tail
  torch::manual_seed(7);
  const auto a = attn::dropout(x, 0.5, true), b = attn::dropout(x, 0.5, true);
  torch::manual_seed(7);
  CHECK(torch::equal(attn::dropout(x, 0.5, true), a));
  CHECK_FALSE(torch::equal(a, b));
  const int threads = at::get_num_threads();
  for (const int t : {1, 2, 3}) {
    at::set_num_threads(t);
    torch::manual_seed(7);
    CHECK(torch::equal(attn::dropout(x, 0.5, true), a));
  }
  at::set_num_threads(threads);
  for (const auto& isa : kernels::kernel_isas()) {
    INFO("kernels: " << isa);
    REQUIRE(kernels::force_kernel_isa(isa));
    torch::manual_seed(7);
    CHECK(torch::equal(attn::dropout(x, 0.5, true), a));
  }
  kernels::force_kernel_isa("");
}

TEST_CASE("dropout's bits are its documented hash, and its threshold keeps 1 - p", "[dropout]") {
  // Two rounds of MurmurHash3's finaliser, written out here from its published constants.
  auto fmix = [](uint32_t h) {
    h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
    return h;
  };
  const uint64_t seed = 0x0123456789abcdefull;
  for (const int64_t i : {int64_t(0), int64_t(1), int64_t(12345), int64_t(1) << 33})
    CHECK(kernels::dropout_bits(seed, i) ==
          fmix(fmix(uint32_t(i) ^ 0x89abcdefu) + 0x01234567u + uint32_t(uint64_t(i) >> 32) * 0x9e3779b9u));
  CHECK(kernels::dropout_threshold(0.0) == 0u);
  CHECK(kernels::dropout_threshold(0.5) == 2147483648u);
  CHECK(kernels::dropout_threshold(0.9999999999999) == 4294967295u);
}

TEST_CASE("dropout is the identity outside training and at p = 0, and refuses p below 0 or from 1 up", "[dropout]") {
  const auto x = torch::randn({4, 5});
  CHECK(attn::dropout(x, 0.5, false).is_same(x));
  CHECK(attn::dropout(x, 0.0, true).is_same(x));
  CHECK_THROWS_WITH(attn::dropout(x, 1.0, true), Catch::Contains("p must be in [0, 1), got 1"));
  CHECK_THROWS_WITH(attn::dropout(x, -0.1, true), Catch::Contains("p must be in [0, 1)"));
}

}  // namespace test_dropout
