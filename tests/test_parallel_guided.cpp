// The guided parallel loop of the CPU kernels (attn/ops/parallel_guided.h): every item runs
// exactly once, in non-empty consecutive ranges, with one or more threads, and in one call
// inside another parallel region.
#include "attn/ops/parallel_guided.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_parallel_guided {

using namespace attn;

namespace {

struct Coverage {
  std::vector<std::atomic<int>> seen;
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  explicit Coverage(int64_t n) : seen(n) {}
  void add(int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) seen[i].fetch_add(1);
    std::lock_guard<std::mutex> lock(m);
    ranges.emplace_back(begin, end);
  }
};

}  // namespace

TEST_CASE("the guided parallel loop runs every item exactly once, in non-empty ranges", "[parallel]") {
  const int restore = at::get_num_threads();
  for (const int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    for (const int64_t n : {0, 1, 2, 7, 328, 1312, 10000}) {
      INFO(threads << " threads, " << n << " items");
      Coverage c(n);
      parallel_guided(n, [&](int64_t begin, int64_t end) { c.add(begin, end); });
      for (int64_t i = 0; i < n; ++i) REQUIRE(c.seen[i].load() == 1);
      for (const auto& [begin, end] : c.ranges) CHECK((0 <= begin && begin < end && end <= n));
      if (threads == 1) CHECK(c.ranges.size() == (n > 0 ? 1u : 0u));  // one call: no splitting overhead
    }
  }
  at::set_num_threads(restore);
}

TEST_CASE("the guided parallel loop runs in one call inside another parallel region", "[parallel]") {
  const int restore = at::get_num_threads();
  at::set_num_threads(2);
  std::atomic<int> calls{0}, items{0};
  at::parallel_for(0, 2, 1, [&](int64_t b, int64_t e) {
    for (int64_t outer = b; outer < e; ++outer)
      parallel_guided(100, [&](int64_t begin, int64_t end) { calls.fetch_add(1), items.fetch_add(int(end - begin)); });
  });
  CHECK(items.load() == 200);
  CHECK(calls.load() == 2);
  at::set_num_threads(restore);
}

}  // namespace test_parallel_guided
