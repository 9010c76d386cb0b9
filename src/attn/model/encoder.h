// The Transformer encoder: self-attention -> Add & Norm -> 1-convolution -> Add & Norm, N times,
// over the embedded set.
//
// Shapes: B batch, T set size, D d_model.
#pragma once

#include <torch/torch.h>

#include "attn/model/conv_ffn.h"
#include "attn/model/embeddings.h"
#include "attn/model/layer_options.h"
#include "attn/model/multi_head_attention.h"

namespace attn {

class EncoderLayerImpl : public torch::nn::Cloneable<EncoderLayerImpl> {
 public:
  explicit EncoderLayerImpl(LayerOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// x (B, T, D); key_padding_mask optional bool (B, T), true = padding.  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask = {});

  LayerOptions options;
  MultiHeadAttention mha{nullptr};
  ConvFeedForward cnn{nullptr};
  torch::nn::LayerNorm layernorm1{nullptr}, layernorm2{nullptr};
};
TORCH_MODULE(EncoderLayer);

class EncoderImpl : public torch::nn::Cloneable<EncoderImpl> {
 public:
  explicit EncoderImpl(EncoderOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// ids (B, T) long; key_padding_mask optional bool (B, T), true = padding.  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& key_padding_mask = {});

  EncoderOptions options;
  Embeddings embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};  // pre-norm only
};
TORCH_MODULE(Encoder);

/// A LayerNorm of width d with epsilon eps.
torch::nn::LayerNorm layer_norm(int64_t d, double eps);

}  // namespace attn
