// Token embeddings plus positions, then LayerNorm and dropout, as in the notebook.
//
// Shapes: B batch, T set size, D d_model.  ids (B, T) long -> (B, T, D)
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/core/choices.h"

namespace attn {

struct EmbeddingsOptions {
  EmbeddingsOptions(int64_t vocab_size, int64_t d_model);
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(int64_t, d_model);
  /// Row of the padding token: zero and never trained (<pad> = 1 in the notebook).
  TORCH_ARG(int64_t, padding_idx) = 1;
  TORCH_ARG(Positions, positions) = Positions::Sinusoidal;
  /// Rows of the position table (the notebook's 10000).
  TORCH_ARG(int64_t, max_positions) = 10000;
  /// LayerNorm epsilon (the notebook's 1e-12).
  TORCH_ARG(double, layer_norm_eps) = 1e-12;
  /// Dropout after the LayerNorm while training.
  TORCH_ARG(double, dropout) = 0.0;
};

/// The sinusoid table (rows, dim), computed in float64.
torch::Tensor sinusoidal_table(int64_t rows, int64_t dim);

class EmbeddingsImpl : public torch::nn::Cloneable<EmbeddingsImpl> {
 public:
  explicit EmbeddingsImpl(EmbeddingsOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;
  /// Cloneable's copy, with the sinusoid table still fixed (LibTorch's Embedding::clone makes
  /// its weight trainable again).
  std::shared_ptr<torch::nn::Module> clone(const c10::optional<torch::Device>& device = c10::nullopt) const override;
  /// ids (B, T); the first element is at position `start` (incremental decoding).
  torch::Tensor forward(const torch::Tensor& ids, int64_t start = 0);

  EmbeddingsOptions options;
  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};  // absent when positions == None
  torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(Embeddings);

}  // namespace attn
