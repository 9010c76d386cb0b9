// Set to vector: the encoder, a pooling over the set, then a Linear to the classes
// (the notebook's TransformerClassifier, with max pooling).
//
// Shapes: B batch, T set size, D d_model, C classes.  ids (B, T) -> logits (B, C)
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/model/encoder.h"
#include "attn/model/multi_head_attention.h"

namespace attn {

struct SetClassifierOptions {
  SetClassifierOptions(EncoderOptions encoder, int64_t num_classes);
  TORCH_ARG(EncoderOptions, encoder);
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(Pooling, pooling) = Pooling::Max;
};

/// Pools x (B, T, D) over T, leaving out the elements where padding (B, T) is true; a set with
/// no element at all pools to zeros. padding may be undefined (every element takes part).
torch::Tensor pool_max(const torch::Tensor& x, const torch::Tensor& padding);
torch::Tensor pool_mean(const torch::Tensor& x, const torch::Tensor& padding);

class SetClassifierImpl : public torch::nn::Cloneable<SetClassifierImpl> {
 public:
  explicit SetClassifierImpl(SetClassifierOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// ids (B, T) long; key_padding_mask optional bool (B, T), true = padding. Without a mask
  /// padding tokens take part like any element (the notebook's behaviour).  -> (B, C)
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& key_padding_mask = {});
  /// The pooled set representation (B, D), before the classifier.
  torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& key_padding_mask = {});

  SetClassifierOptions options;
  Encoder encoder{nullptr};
  torch::Tensor pool_query;                              // (1, 1, D), attention pooling only
  MultiHeadAttention pool_attention{nullptr};            // attention pooling only
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(SetClassifier);

}  // namespace attn
