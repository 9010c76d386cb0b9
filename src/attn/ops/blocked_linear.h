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

/// Up to this many rows, inside a decode (attn/ops/decoding_weights.h), few_rows_linear multiplies
/// by the weight transposed once for the decode, in blocks of step_columns output columns: the
/// small-matrix kernels need rows x K x columns <= 1e6 (48 rows of d_model 256: 80 columns).
constexpr int64_t kStepRows = 48;

/// Output columns per block of a decoding step's product of `rows` rows of width K: the most
/// that keep rows x K x columns within OpenBLAS's small-matrix limit (1e6), a multiple of 16,
/// 16 to 128.
int64_t step_columns(int64_t rows, int64_t K);

/// x w^T + b for a few rows (x (N, K), w (M, K), b (M) or undefined or empty): one product with
/// w read in place (inside a decode, up to kStepRows rows: its transposed copy, in column
/// blocks); relu: max(., 0) of the sum; add (N, M): added last. Not differentiable:
/// blocked_linear's forward and the fused feed-forward's call it.
torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                              bool relu = false, const torch::Tensor& add = {});

/// x w^T + b (b may be undefined): blocked_linear where it applies, torch's linear otherwise.
torch::Tensor linear_layer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b = {});

}  // namespace attn
