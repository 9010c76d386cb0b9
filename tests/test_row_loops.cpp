// The blocked kernels' element loops (attn/kernels/row_loops.h) on every kernel instruction set:
// bias (added, or with a copy), ReLU, the ReLU's gradient with its column sums, column sums.
// Each copy must give the bits of the plain loops written here (same operations, same order),
// for widths with and without a vector tail.
#include "attn/kernels/row_loops.h"

#include <random>
#include <vector>

#include "attn/kernels/flash_kernels.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_row_loops {

using namespace attn;

namespace {

template <typename T>
std::vector<T> random_values(size_t count, std::mt19937& rng) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<T> out(count);
  for (auto& v : out) v = T(normal(rng));
  return out;
}

template <typename T>
void check_loops(int64_t n, int64_t m, std::mt19937& rng) {
  INFO(n << " x " << m << (sizeof(T) == 4 ? " float" : " double"));
  const auto x = random_values<T>(n * m, rng), h = random_values<T>(n * m, rng), b = random_values<T>(m, rng);
  const auto acc0 = random_values<T>(m, rng);

  auto y = x, want = x;
  kernels::add_row_bias(y.data(), b.data(), n, m);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) want[r * m + c] += b[c];
  CHECK(y == want);

  y.assign(n * m, T(0)), want = x;
  kernels::rows_plus_bias(y.data(), x.data(), b.data(), n, m);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) want[r * m + c] = x[r * m + c] + b[c];
  CHECK(y == want);

  for (const bool with_bias : {true, false}) {
    y = x, want = x;
    kernels::bias_relu(y.data(), with_bias ? b.data() : nullptr, n, m);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < m; ++c) {
        const T v = x[r * m + c] + (with_bias ? b[c] : T(0));
        want[r * m + c] = v > T(0) ? v : T(0);
      }
    CHECK(y == want);
  }

  auto dh = x, want_dh = x;
  auto db = acc0, want_db = acc0;
  kernels::relu_backward_sums(h.data(), dh.data(), n, m, db.data());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) {
      want_dh[r * m + c] = h[r * m + c] > T(0) ? x[r * m + c] : T(0);
      want_db[c] += want_dh[r * m + c];
    }
  CHECK(dh == want_dh);
  CHECK(db == want_db);

  auto sums = acc0, want_sums = acc0;
  kernels::add_column_sums(x.data(), n, m, sums.data());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) want_sums[c] += x[r * m + c];
  CHECK(sums == want_sums);
}

}  // namespace

TEST_CASE("the blocked kernels' element loops give the plain loops' bits on every instruction set", "[kernel]") {
  std::mt19937 rng(Catch::rngSeed());
  for (const auto& isa : attn::test::isas_under_test()) {
    INFO("kernels: " << isa);
    REQUIRE(kernels::force_kernel_isa(isa));
    for (const auto& [n, m] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 37}, {7, 96}, {128, 128}, {5, 13}}) {
      check_loops<float>(n, m, rng);
      check_loops<double>(n, m, rng);
    }
  }
  kernels::force_kernel_isa("");
}

}  // namespace test_row_loops
