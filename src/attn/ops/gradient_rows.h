// Which rows of an incoming gradient are not zero, for the backward passes that can skip the
// others (the feed-forward's, the linear layers'), and the gather and scatter that go with it.
//
// A row whose gradient is exactly zero contributes nothing to the weight gradients and gets a
// zero input gradient from a row-wise layer, and such rows are common: max-pooling over a set
// sends each feature's gradient to the one element where it is largest (the notebook's
// classifier: at most d_model of its 200 rows per set), a loss's padded targets send none, and
// the zero rows stay zero back through the layer norms, the feed-forward and the output
// projection down to the attention (whose kernel skips such queries itself). Backward then runs
// its products on the gathered rows and scatters the result.
#pragma once

#include <torch/torch.h>

namespace attn {

/// The rows of g (N, W), contiguous, that are not all zero (NaN counts as not zero), as a Long
/// tensor of indices in increasing order; undefined when more than about 3/4 of the rows are,
/// where gathering them would not pay.
torch::Tensor gradient_rows(const torch::Tensor& g);

/// x's rows at `rows` (n, W); x contiguous (N, W).
torch::Tensor gather_rows(const torch::Tensor& x, const torch::Tensor& rows);

/// (N, W): row rows[i] is src's row i (src (n, W) contiguous, rows increasing), the rest zero.
torch::Tensor scatter_rows(const torch::Tensor& src, const torch::Tensor& rows, int64_t N);

/// A row-wise layer's backward on the rows that have a gradient: x's and dy's rows where dy is
/// not zero, or x and dy themselves where gathering would not pay.
struct RowsWithGradient {
  torch::Tensor rows;  ///< (n) the rows kept; undefined: every row
  torch::Tensor x;     ///< (n, K)
  torch::Tensor dy;    ///< (n, M)
  int64_t N = 0;       ///< rows in all

  /// dx (n, K) of the rows kept, as (N, K): zeros for the rows left out.
  torch::Tensor all_rows(const torch::Tensor& dx) const { return rows.defined() ? scatter_rows(dx, rows, N) : dx; }
};

/// x (N, K) and dy (N, M), both contiguous.
RowsWithGradient rows_with_gradient(const torch::Tensor& x, const torch::Tensor& dy);

}  // namespace attn
