// The 1-convolution (attn/model/conv_ffn.h) through the blocked CPU kernel of
// attn/kernels/ffn_kernels.h, as an autograd function: same result as the two linear layers
// and the ReLU between them, without the (B, T, F) hidden tensor in memory.
//
// Shapes: x (..., D), w1 (F, D), b1 (F), w2 (D, F), b2 (D) -> (..., D).
#pragma once

#include <torch/torch.h>

#include "attn/core/choices.h"

namespace attn {

/// Whether fused_ffn computes the 1-convolution on x: the fused kernel chosen
/// (kernel_choice().ffn), x on the CPU in float or double, ReLU, and no dropout to apply (none,
/// or not training). Otherwise the module runs its two linear layers.
bool fused_ffn_applies(const torch::Tensor& x, Activation activation, double dropout, bool training);

/// relu(x w1^T + b1) w2^T + b2 over the last axis of x, differentiable in every argument; with
/// `residual`, x plus that (the residual add inside the kernel: its backward hands x one
/// gradient, not two for autograd to add up).
torch::Tensor fused_ffn(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                        const torch::Tensor& w2, const torch::Tensor& b2, bool residual = false);

}  // namespace attn
