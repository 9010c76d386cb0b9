// The parallel loop of the CPU kernels whose items are independent (attention tasks, blocks of
// rows without weight-gradient sums): chunks that the threads take in turn, largest first.
//
// at::parallel_for gives each thread one fixed share of the range. On a shared host the cores
// do not run at the same speed from one millisecond to the next (another guest on the sibling
// hyperthread, an interrupt), and the faster thread then waits at the end of the region for the
// slower one. Here each thread takes its next chunk from a shared counter, each chunk half of
// what is left divided by the thread count (OpenMP's "guided" schedule): large chunks first,
// single items at the end, so a thread that falls behind takes fewer and the last to finish
// waits at most about one item. Which thread runs an item changes from run to run; what an item
// computes does not. (The kernels that sum weight gradients keep fixed chunks: block_sums.h.)
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace attn {

/// Calls fn(begin, end) on consecutive ranges that cover [0, n) once, in parallel; in one call
/// inside another parallel region or with one thread.
template <typename F>
void parallel_guided(int64_t n, const F& fn) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(at::get_num_threads(), n);
  if (threads <= 1 || at::in_parallel_region()) {
    fn(int64_t(0), n);
    return;
  }
  std::atomic<int64_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    int64_t begin = next.load(std::memory_order_relaxed);
    while (begin < n) {
      const int64_t size = std::max<int64_t>(1, (n - begin) / (2 * threads));
      if (next.compare_exchange_weak(begin, begin + size, std::memory_order_relaxed)) {
        fn(begin, std::min(n, begin + size));
        begin = next.load(std::memory_order_relaxed);
      }  // else begin now holds the counter's value: try again from there
    }
  });
}

}  // namespace attn
