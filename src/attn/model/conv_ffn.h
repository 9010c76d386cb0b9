// The lecture's "1-convolution": a 1D convolution with kernel size 1, i.e. the same two-layer
// MLP applied to every element of the set independently.
//
// Shapes: B batch, T set size, D d_model, F hidden width.  x (B, T, D) -> (B, T, D)
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/core/choices.h"

namespace attn {

struct ConvFeedForwardOptions {
  ConvFeedForwardOptions(int64_t d_model, int64_t hidden);
  TORCH_ARG(int64_t, d_model);
  /// Width of the hidden layer (the notebook's conv_hidden_dim).
  TORCH_ARG(int64_t, hidden);
  /// Nonlinearity between the two convolutions.
  TORCH_ARG(Activation, activation) = Activation::ReLU;
  /// Dropout after the activation while training.
  TORCH_ARG(double, dropout) = 0.0;
};

class ConvFeedForwardImpl : public torch::nn::Cloneable<ConvFeedForwardImpl> {
 public:
  explicit ConvFeedForwardImpl(ConvFeedForwardOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  /// x + forward(x): in one pass through the fused kernel where it applies.
  torch::Tensor forward_residual(const torch::Tensor& x);
  /// Whether forward runs through the fused kernel (attn/ops/fused_ffn.h) for this x.
  bool runs_fused(const torch::Tensor& x) const;

  ConvFeedForwardOptions options;
  torch::nn::Conv1d k1convL1{nullptr}, k1convL2{nullptr};
};
TORCH_MODULE(ConvFeedForward);

}  // namespace attn
