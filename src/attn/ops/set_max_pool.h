// Max-pooling over the elements of each set, as pool_max (set_classifier.h) computes it with
// LibTorch's masked_fill and max, in one parallel pass: LibTorch 1.13 reduces the (B, T, D)
// tensor over T on one thread (0.6 ms of the notebook's step, with the second core waiting).
//
// Shapes: x (B, T, D), padding (B, T) bool (true = padding) or undefined -> (B, D).
#pragma once

#include <torch/torch.h>

namespace attn {

/// Whether set_max_pool computes pool_max for x here: x on the CPU in float or double.
bool set_max_pool_applies(const torch::Tensor& x);

/// The largest value of each feature over the set's non-padding elements (0 for a set that is all
/// padding; NaN where the set has one), differentiable in x: the gradient goes to the first
/// element holding the maximum, as with torch::max.
torch::Tensor set_max_pool(const torch::Tensor& x, const torch::Tensor& padding);

}  // namespace attn
