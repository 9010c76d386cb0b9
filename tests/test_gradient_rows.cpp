// attn/ops/gradient_rows.h: which rows of a gradient are not zero, and the gather and scatter
// the backward passes use to skip the others, against LibTorch's own nonzero, index_select and
// index_copy.
#include "attn/ops/gradient_rows.h"

#include <ATen/Parallel.h>

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_gradient_rows {

using namespace attn;

namespace {

// A (N, W) gradient whose rows are zero except a fraction `keep` of them, each of those with one
// element set at a random column (first, last or between: a dense row's test stops early).
torch::Tensor sparse_rows(int64_t N, int64_t W, double keep) {
  auto g = torch::zeros({N, W});
  const auto kept = (torch::rand({N}) < keep).nonzero().squeeze(1);
  const auto cols = torch::randint(W, {kept.numel()});
  g.index_put_({kept, cols}, torch::randn({kept.numel()}) + 3.0);
  return g;
}

torch::Tensor want_rows(const torch::Tensor& g) {
  return (g.ne(0) | g.isnan()).any(1).nonzero().squeeze(1);              // (n)
}

}  // namespace

TEST_CASE("gradient_rows finds exactly the rows that are not all zero, in order, on any thread count",
          "[gradient_rows]") {
  attn::test::seed();
  const int threads = at::get_num_threads();
  for (int t : {1, 2, 3}) {
    at::set_num_threads(t);
    for (int64_t N : {1, 5, 1000, 5000})
      for (int64_t W : {1, 7, 96})
        for (double keep : {0.0, 0.1, 0.5}) {
          INFO("threads " << t << " N " << N << " W " << W << " keep " << keep);
          auto g = sparse_rows(N, W, keep);
          if (N >= 1000) {
            g[3][W / 2] = std::numeric_limits<float>::quiet_NaN();           // NaN is not zero
            g[4].fill_(-0.0);                                              // -0 is
          }
          const auto want = want_rows(g);
          const auto got = gradient_rows(g);
          CHECK(got.defined() == (want.numel() <= 3 * N / 4));  // only tiny N have more (one chunk)
          if (got.defined()) CHECK(torch::equal(got, want));
        }
  }
  at::set_num_threads(threads);
}

TEST_CASE("gradient_rows gives up (undefined) where more than 3/4 of the rows have a gradient", "[gradient_rows]") {
  attn::test::seed();
  CHECK_FALSE(gradient_rows(torch::randn({5000, 32})).defined());        // dense
  CHECK_FALSE(gradient_rows(sparse_rows(5000, 32, 0.9)).defined());
  CHECK(gradient_rows(sparse_rows(5000, 32, 0.6)).defined());
  CHECK_FALSE(gradient_rows(torch::zeros({0, 32})).defined());           // nothing to skip
}

TEST_CASE("gather_rows and scatter_rows equal index_select and index_copy into zeros", "[gradient_rows]") {
  attn::test::seed();
  for (int64_t N : {1, 7, 3000})
    for (double keep : {0.0, 0.2, 1.0}) {
      INFO("N " << N << " keep " << keep);
      const auto x = torch::randn({N, 33});
      const auto rows = (torch::rand({N}) < keep).nonzero().squeeze(1);
      const auto gathered = gather_rows(x, rows);
      CHECK(torch::equal(gathered, x.index_select(0, rows)));
      const auto src = torch::randn({rows.numel(), 33});
      CHECK(torch::equal(scatter_rows(src, rows, N), torch::zeros({N, 33}).index_copy_(0, rows, src)));
    }
}

}  // namespace test_gradient_rows
