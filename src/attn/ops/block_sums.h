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
  auto sums = torch::zeros({chunks, width}, options);                      // (chunks, width)
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) add(c * blocks / chunks, (c + 1) * blocks / chunks, sums[c].data_ptr<T>());
  });
  return sums.sum(0);                                                      // (width)
}

}  // namespace attn
