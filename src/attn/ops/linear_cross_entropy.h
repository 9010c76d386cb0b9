// A translation model's output projection and its label-smoothed cross-entropy as one
// operation: the mean over the target tokens that are not `ignore_index` of
// CE(hidden W^T + b, target), as torch's linear and cross_entropy(ignore_index,
// label_smoothing) compute it, without the (N, V) logits in memory on the CPU
// (attn/kernels/cross_entropy_kernels.h). Elsewhere (CUDA, half precision, the reference kernel
// chosen) it is those two LibTorch operators.
//
// Shapes: hidden (..., D), weight (V, D), bias (V) or undefined, target (...) int64.
#pragma once

#include <torch/torch.h>

namespace attn {

struct TokenLoss {
  torch::Tensor loss;   ///< () the mean over counted tokens, differentiable in hidden, weight, bias
  int64_t tokens = 0;   ///< target tokens counted (target != ignore_index)
  int64_t correct = 0;  ///< of those, how many have their target as the largest logit
};

/// Whether the fused kernel computes linear_cross_entropy of `hidden`: chosen
/// (kernel_choice().loss), on the CPU, in float or double.
bool fused_loss_applies(const torch::Tensor& hidden);

TokenLoss linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& target, int64_t ignore_index, double label_smoothing);

}  // namespace attn
