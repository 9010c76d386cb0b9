// A linear layer through the blocked CPU kernel of attn/kernels/linear_kernels.h, as an autograd
// function: the same result as torch::nn::functional::linear, faster on the tall, narrow inputs
// of the attention projections (B x T rows of d_model). MultiHeadAttention uses it for its
// packed q/k/v projection and its output projection whenever its attention kernel is "fused".
//
// Shapes: x (..., K), w (M, K), b (M) or undefined -> (..., M).
#pragma once

#include <torch/torch.h>

namespace attn {

/// Whether blocked_linear computes x w^T + b: x on the CPU, in float or double, and attention's
/// kernels chosen (kernel_choice().attention: the projections go with the attention kernel).
bool blocked_linear_applies(const torch::Tensor& x);

/// x w^T + b over the last axis of x, differentiable in x, w and b (when defined).
torch::Tensor blocked_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b);

/// Up to this many rows (a decoding step: one per sentence and beam), the blocked kernels'
/// forward passes (this linear layer's, the fused feed-forward's) make one product of x with the
/// weight as a transposed view instead: transposing the weight on every call, as their blocks
/// need, costs more than the product itself there.
constexpr int64_t kFewRows = 80;

/// Up to this many rows (a greedy step of up to 32 sentences, a beam of a few), few_rows_linear
/// multiplies in blocks of step_columns rows of w (output columns), one block per thread at a
/// time: OpenBLAS (0.3.21, its AVX-512 kernels) takes such a block's x w^T through its
/// small-matrix path, which reads w where it lies, where one product of all columns packs w first
/// (the 8,000 x 256 output projection of 16 rows: 0.88 -> 0.35 ms, 2 threads). With 48 rows the
/// blocks would be 16 columns wide, no faster than one product; past 75 none fits.
constexpr int64_t kStepRows = 32;

/// Output columns per block of a step of `rows` rows of width K: the most, a multiple of 16 from
/// 16 to 128, with rows x columns <= 1,200 and rows x K x columns <= 1e6, the bounds of
/// OpenBLAS's small-matrix path for x w^T (16 rows of d_model 256: 64 columns).
int64_t step_columns(int64_t rows, int64_t K);

/// x w^T + b for a few rows (x (N, K), w (M, K), b (M) or undefined or empty): one product with
/// w read in place (up to kStepRows rows in blocks of columns); relu: max(., 0) of the sum; add
/// (N, M): added last. Not differentiable:
/// blocked_linear's forward and the fused feed-forward's call it.
torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                              bool relu = false, const torch::Tensor& add = {});

/// x w^T + b (b may be undefined): blocked_linear where it applies, torch's linear otherwise.
torch::Tensor linear_layer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b = {});

}  // namespace attn
