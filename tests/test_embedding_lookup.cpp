// embedding_lookup (attn/ops/embedding_lookup.h) against torch::embedding: the same rows
// forward and, bit for bit, the same table gradient (repeated ids, the padding row, tables
// split over threads or not), float and double; out-of-range ids refused with the range.
#include "attn/ops/embedding_lookup.h"

#include <ATen/Parallel.h>

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_embedding_lookup {

using namespace attn;

namespace {

void check_same(int64_t V, int64_t D, std::vector<int64_t> shape, int64_t padding, torch::Dtype dtype) {
  const auto table = torch::randn({V, D}, torch::TensorOptions().dtype(dtype));
  // Few distinct ids, so that most are repeated (their gradient rows must add up in order).
  auto ids = torch::randint(0, std::min<int64_t>(V, 50), shape, torch::kLong);
  if (V > 50) ids.view({-1}).narrow(0, 0, 1).fill_(V - 1);  // the last row too, on another thread
  if (padding >= 0) ids.view({-1}).narrow(0, 0, std::min<int64_t>(3, ids.numel())).fill_(padding);
  auto out_shape = shape;
  out_shape.push_back(D);
  const auto grad = torch::randn(out_shape, table.options());
  auto a = table.clone().requires_grad_(), b = table.clone().requires_grad_();
  auto got = embedding_lookup(a, ids, padding);
  auto want = torch::embedding(b, ids, padding);
  INFO("V " << V << " D " << D << " padding " << padding << " " << dtype);
  REQUIRE(got.sizes() == want.sizes());
  CHECK(torch::equal(got, want));
  (got * grad).sum().backward();
  (want * grad).sum().backward();
  CHECK(torch::equal(a.grad(), b.grad()));
  if (padding >= 0) CHECK(torch::equal(a.grad()[padding], torch::zeros({D}, table.options())));
}

}  // namespace

TEST_CASE("embedding_lookup gives torch::embedding's rows and, bit for bit, its table gradient", "[embedding]") {
  attn::test::seed();
  for (const auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const int64_t padding : {int64_t(1), int64_t(-1)}) {
      check_same(7, 4, {3, 5}, padding, dtype);           // one thread's share of rows
      check_same(50002, 32, {16, 200}, padding, dtype);   // the notebook's table, split over threads
      check_same(5000, 8, {1}, padding, dtype);           // one id
    }
}

TEST_CASE("embedding_lookup refuses ids outside the table, naming the range", "[embedding][errors]") {
  const auto table = torch::randn({10, 4}, torch::requires_grad());
  CHECK_THROWS_WITH(embedding_lookup(table, torch::tensor({3, 10}), 1), Catch::Contains("must lie in [0, 10), got 3..10"));
  CHECK_THROWS_WITH(embedding_lookup(table, torch::tensor({-1, 2}), 1), Catch::Contains("got -1..2"));
  CHECK_THROWS_WITH(embedding_lookup(table, torch::tensor({1.0, 2.0}), 1), Catch::Contains("must be int64"));
}

}  // namespace test_embedding_lookup
