#include "attn/ops/gradient_rows.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "attn/kernels/row_loops.h"

namespace attn {

torch::Tensor gradient_rows(const torch::Tensor& g) {
  TORCH_CHECK(g.dim() == 2 && g.is_contiguous(), "gradient_rows: g must be a contiguous (N, W) tensor");
  const int64_t N = g.size(0), W = g.size(1);
  if (N == 0 || W == 0 || !kernels::skip_zero_gradient_rows()) return torch::Tensor();
  auto rows = torch::empty({N}, g.options().dtype(torch::kLong));          // (N), the first `count` used
  int64_t* out = rows.data_ptr<int64_t>();
  // Fixed chunks scanned in parallel, each stopping once more than 3/4 of its rows are not zero
  // (a dense gradient's chunks stop there, having read one or two elements per row).
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), N / 1024));
  std::vector<int64_t> counts(chunks);
  std::atomic<bool> dense{false};
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "gradient_rows", [&] {
    const scalar_t* x = g.data_ptr<scalar_t>();
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end && !dense; ++c) {
        const int64_t r0 = c * N / chunks, n = (c + 1) * N / chunks - r0;
        counts[c] = kernels::nonzero_rows(x + r0 * W, n, W, W, 3 * n / 4, out + r0);
        if (counts[c] > 3 * n / 4) dense = true;
        for (int64_t i = 0; i < counts[c]; ++i) out[r0 + i] += r0;
      }
    });
  });
  if (dense) return torch::Tensor();
  int64_t count = counts[0];
  for (int64_t c = 1; c < chunks; ++c) {  // the chunks' lists, moved together in order
    std::memmove(out + count, out + c * N / chunks, counts[c] * sizeof(int64_t));
    count += counts[c];
  }
  return rows.narrow(0, 0, count);                                         // (count)
}

torch::Tensor gather_rows(const torch::Tensor& x, const torch::Tensor& rows) {
  TORCH_CHECK(x.dim() == 2 && x.is_contiguous(), "gather_rows: x must be a contiguous (N, W) tensor");
  const int64_t n = rows.numel(), bytes = x.size(1) * x.element_size();
  auto out = torch::empty({n, x.size(1)}, x.options());                   // (n, W)
  const auto* from = static_cast<const char*>(x.data_ptr());
  auto* to = static_cast<char*>(out.data_ptr());
  const int64_t* idx = rows.data_ptr<int64_t>();
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) std::memcpy(to + i * bytes, from + idx[i] * bytes, bytes);
  });
  return out;
}

torch::Tensor scatter_rows(const torch::Tensor& src, const torch::Tensor& rows, int64_t N) {
  TORCH_CHECK(src.dim() == 2 && src.is_contiguous() && src.size(0) == rows.numel(),
              "scatter_rows: src must be a contiguous (n, W) tensor with n = rows.numel()");
  const int64_t n = rows.numel(), bytes = src.size(1) * src.element_size();
  auto out = torch::empty({N, src.size(1)}, src.options());               // (N, W)
  const auto* from = static_cast<const char*>(src.data_ptr());
  auto* to = static_cast<char*>(out.data_ptr());
  const int64_t* idx = rows.data_ptr<int64_t>();
  at::parallel_for(0, N, 1024, [&](int64_t begin, int64_t end) {  // each output row written once
    int64_t j = std::lower_bound(idx, idx + n, begin) - idx;
    int64_t i = begin;
    while (i < end) {
      const int64_t next = j < n ? std::min(idx[j], end) : end;  // zeros up to the next gathered row
      std::memset(to + i * bytes, 0, (next - i) * bytes);
      i = next;
      if (i < end) std::memcpy(to + i * bytes, from + j * bytes, bytes), ++i, ++j;
    }
  });
  return out;
}

RowsWithGradient rows_with_gradient(const torch::Tensor& x, const torch::Tensor& dy) {
  RowsWithGradient r;
  r.rows = gradient_rows(dy);                                              // (n), or undefined: all
  r.x = r.rows.defined() ? gather_rows(x, r.rows) : x;                     // (n, K)
  r.dy = r.rows.defined() ? gather_rows(dy, r.rows) : dy;                  // (n, M)
  r.N = x.size(0);
  return r;
}

}  // namespace attn
