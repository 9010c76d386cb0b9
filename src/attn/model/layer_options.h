// Options shared by the encoder and decoder layers, and by the stacks built from them.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "attn/model/attention.h"
#include "attn/model/conv_ffn.h"
#include "attn/model/embeddings.h"
#include "attn/model/multi_head_attention.h"

namespace attn {

struct LayerOptions {
  LayerOptions(int64_t d_model, int64_t num_heads, int64_t ffn_hidden);
  TORCH_ARG(int64_t, d_model);
  TORCH_ARG(int64_t, num_heads);
  /// Hidden width of the 1-convolution (the notebook's conv_hidden_dim).
  TORCH_ARG(int64_t, ffn_hidden);
  TORCH_ARG(Activation, activation) = Activation::ReLU;
  TORCH_ARG(AttentionMode, attention) = AttentionMode::Soft;
  TORCH_ARG(HardGradient, hard_gradient) = HardGradient::StraightThrough;
  /// Inverse temperature; unset means 1/sqrt(d_k).
  TORCH_ARG(std::optional<double>, beta) = std::nullopt;
  TORCH_ARG(NormPlacement, norm) = NormPlacement::Post;
  /// LayerNorm epsilon (the notebook's 1e-6).
  TORCH_ARG(double, layer_norm_eps) = 1e-6;
  /// Dropout on each sub-layer's output before the residual add (the notebook has none).
  TORCH_ARG(double, dropout) = 0.0;
  /// Dropout on the attention weights.
  TORCH_ARG(double, attention_dropout) = 0.0;
};

/// Checks every value of `o`; `where` names the owner in the message ("EncoderLayer").
void validate(const LayerOptions& o, const char* where);

/// The options of a MultiHeadAttention inside a layer described by `o`.
MultiHeadAttentionOptions attention_options(const LayerOptions& o);

/// The options of the 1-convolution inside a layer described by `o`.
ConvFeedForwardOptions ffn_options(const LayerOptions& o);

/// A stack: embeddings and N layers (the encoder, or the decoder).
struct StackOptions {
  StackOptions(EmbeddingsOptions embeddings, LayerOptions layer, int64_t num_layers);
  TORCH_ARG(EmbeddingsOptions, embeddings);
  TORCH_ARG(LayerOptions, layer);
  TORCH_ARG(int64_t, num_layers);
};

/// Checks the stack and that its embeddings and layers agree on d_model.
void validate(const StackOptions& o, const char* where);
using EncoderOptions = StackOptions;
using DecoderOptions = StackOptions;

}  // namespace attn
