// The Transformer decoder: masked self-attention over the outputs so far -> Add & Norm ->
// cross-attention (queries from the decoder, keys and values = the encoder's output) ->
// Add & Norm -> 1-convolution -> Add & Norm, N times.
//
// Shapes: B batch, T target length, S source (memory) length, D d_model.
#pragma once

#include <torch/torch.h>

#include "attn/model/conv_ffn.h"
#include "attn/model/embeddings.h"
#include "attn/model/layer_options.h"
#include "attn/model/multi_head_attention.h"

namespace attn {

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(LayerOptions options);
  /// y (B, T, D), memory (B, S, D); masks optional bool, true = padding:
  /// tgt_padding (B, T), memory_padding (B, S).  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& y, const torch::Tensor& memory,
                        const torch::Tensor& tgt_padding = {},
                        const torch::Tensor& memory_padding = {});

  LayerOptions options;
  MultiHeadAttention self_mha{nullptr}, cross_mha{nullptr};
  ConvFeedForward cnn{nullptr};
  torch::nn::LayerNorm layernorm1{nullptr}, layernorm2{nullptr}, layernorm3{nullptr};
};
TORCH_MODULE(DecoderLayer);

class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(DecoderOptions options);
  /// ids (B, T) long, memory (B, S, D); masks as in DecoderLayer.  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& memory,
                        const torch::Tensor& tgt_padding = {},
                        const torch::Tensor& memory_padding = {});

  DecoderOptions options;
  Embeddings embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};  // pre-norm only
};
TORCH_MODULE(Decoder);

}  // namespace attn
