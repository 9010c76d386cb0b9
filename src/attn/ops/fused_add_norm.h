// Add & LayerNorm, y = LN(x + r), through the one-pass CPU kernel of
// attn/kernels/norm_kernels.h, as an autograd function: the same result as LibTorch's add and
// layer_norm (to rounding), without the x + r tensor and in one parallel pass each way.
//
// Shapes: x (..., D); r (..., D) like x, or (R, D) added to each run of R rows of x (the
// position table, R = T, for x (B, T, D)), or undefined; weight, bias (D) -> (..., D).
#pragma once

#include <torch/torch.h>

namespace attn {

/// Whether fused_add_norm can compute LN(x + r) here: the fused kernel chosen
/// (kernel_choice().norm), x on the CPU in float or double. Otherwise callers use LibTorch's add
/// and layer_norm.
bool fused_add_norm_applies(const torch::Tensor& x);

/// LN(x + r) over the last axis with `weight`, `bias` and `eps`, differentiable in x, r,
/// weight and bias. r as above; undefined means LN(x).
torch::Tensor fused_add_norm(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps);

/// LN(x + r) through `norm`'s weight, bias and eps: the fused kernel where it applies,
/// LibTorch's add (broadcasting r) and LayerNorm otherwise. r as above, or undefined (LN(x)).
torch::Tensor add_layer_norm(const torch::Tensor& x, const torch::Tensor& r, torch::nn::LayerNorm& norm);

}  // namespace attn
