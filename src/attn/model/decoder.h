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

/// What one decoder layer keeps between decoding steps: its self-attention's keys and values
/// for every token so far, and the cross-attention's keys and values of the encoder output.
struct DecoderLayerCache {
  KeyValues self, cross;
};

/// Every layer's cache, and how many target tokens it holds.
struct DecoderCache {
  std::vector<DecoderLayerCache> layers;
  int64_t length = 0;
  /// Keeps the rows `index` of the batch.
  void select(const torch::Tensor& index);
  /// Moves each row to `index` where every row stays among those of its own sentence (beam search
  /// reordering its hypotheses): the self-attention caches follow; the cross-attention ones, the
  /// same for every row of a sentence, stay.
  void reorder_within_sentences(const torch::Tensor& index);
};

class DecoderLayerImpl : public torch::nn::Cloneable<DecoderLayerImpl> {
 public:
  explicit DecoderLayerImpl(LayerOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// y (B, T, D), memory (B, S, D); masks optional bool, true = padding:
  /// tgt_padding (B, T), memory_padding (B, S).  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& y, const torch::Tensor& memory,
                        const torch::Tensor& tgt_padding = {},
                        const torch::Tensor& memory_padding = {});
  /// One decoding step: y (B, 1, D), the newest target position; appends its keys and values
  /// to cache.self. cache.cross must hold the memory's (cross_mha->project_kv). -> (B, 1, D)
  torch::Tensor step(const torch::Tensor& y, DecoderLayerCache& cache,
                     const torch::Tensor& memory_padding = {});

  LayerOptions options;
  MultiHeadAttention self_mha{nullptr}, cross_mha{nullptr};
  ConvFeedForward cnn{nullptr};
  torch::nn::LayerNorm layernorm1{nullptr}, layernorm2{nullptr}, layernorm3{nullptr};
};
TORCH_MODULE(DecoderLayer);

class DecoderImpl : public torch::nn::Cloneable<DecoderImpl> {
 public:
  explicit DecoderImpl(DecoderOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// ids (B, T) long, memory (B, S, D); masks as in DecoderLayer.  -> (B, T, D)
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& memory,
                        const torch::Tensor& tgt_padding = {},
                        const torch::Tensor& memory_padding = {});
  /// A cache holding the cross-attention keys and values of `memory` (B, S, D), no tokens yet.
  DecoderCache start(const torch::Tensor& memory);
  /// ids (B, 1): the token at position cache.length. -> (B, 1, D), as forward() gives for the
  /// last position of the whole prefix.
  torch::Tensor step(const torch::Tensor& ids, DecoderCache& cache,
                     const torch::Tensor& memory_padding = {});

  DecoderOptions options;
  Embeddings embedding{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};  // pre-norm only
};
TORCH_MODULE(Decoder);

}  // namespace attn
