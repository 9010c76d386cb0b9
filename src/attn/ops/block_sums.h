// The weight gradients of the blocked CPU kernels (fused_ffn.h, blocked_linear.h): their blocks
// of rows split into at most one contiguous chunk per thread, each chunk adding into sums of its
// own, and the chunks' sums added in chunk order, so that a run with the same thread count gives
// the same bits (no atomics, no order that depends on scheduling).
#pragma once

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>

namespace attn {

/// Calls add(first_block, end_block, sums) once per chunk, chunks in parallel, with that chunk's
/// zeroed sums (width values of T); returns the total over the chunks (width).
template <typename T, typename F>
torch::Tensor sum_over_block_chunks(int64_t blocks, int64_t width, const torch::TensorOptions& options, F&& add) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), blocks));
  auto sums = torch::empty({chunks, width}, options);                      // (chunks, width)
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      T* s = sums.data_ptr<T>() + c * width;
      std::fill(s, s + width, T(0));  // zeroed by the thread that adds into it, while it is in cache
      add(c * blocks / chunks, (c + 1) * blocks / chunks, s);
    }
  });
  // Added in chunk order into the first chunk's sums: one elementwise pass per further chunk,
  // not a reduction kernel over (chunks, width) nor a fresh result (the weight gradients are
  // millions of values: zeroing and summing them was ~6% of a small batch's training step).
  auto total = sums[0];                                                    // (width)
  for (int64_t c = 1; c < chunks; ++c) total.add_(sums[c]);
  return total;
}

}  // namespace attn
