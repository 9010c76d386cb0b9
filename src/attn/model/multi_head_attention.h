// Multi-head attention as in the lecture notebook: bias-free W_q, W_k, W_v, heads of width
// d_k = d_model / num_heads, and W_h (with bias) mapping the concatenated heads back to d_model.
// Queries and keys/values may come from sets of different widths: self- and cross-attention.
//
// Shapes: B batch, Tq queries, Tk keys/values, D d_model, H heads, Dk = D / H.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "attn/model/attention.h"

namespace attn {

struct MultiHeadAttentionOptions {
  MultiHeadAttentionOptions(int64_t d_model, int64_t num_heads);
  /// Width of the output and of the stacked heads.
  TORCH_ARG(int64_t, d_model);
  /// Number of heads; must divide d_model.
  TORCH_ARG(int64_t, num_heads);
  /// Width of the query set's elements; unset means d_model.
  TORCH_ARG(std::optional<int64_t>, d_query_in) = std::nullopt;
  /// Width of the key set's elements; unset means d_model.
  TORCH_ARG(std::optional<int64_t>, d_key_in) = std::nullopt;
  /// Width of the value set's elements; unset means d_model.
  TORCH_ARG(std::optional<int64_t>, d_value_in) = std::nullopt;
  /// Soft or hard attention; may be changed after construction (e.g. to evaluate hard).
  TORCH_ARG(AttentionMode, mode) = AttentionMode::Soft;
  /// Gradient rule for hard attention.
  TORCH_ARG(HardGradient, hard_gradient) = HardGradient::StraightThrough;
  /// Inverse temperature; unset means 1/sqrt(d_k) as in the notebook. May be changed after
  /// construction (a beta schedule).
  TORCH_ARG(std::optional<double>, beta) = std::nullopt;
  /// Its role in the model, by which model.hard_in chooses where attention is hard.
  TORCH_ARG(AttentionPlace, place) = AttentionPlace::Encoder;
  /// Dropout on the attention weights while training.
  TORCH_ARG(double, dropout) = 0.0;
};

struct MultiHeadAttentionOutput {
  torch::Tensor output;   ///< (B, Tq, D)
  torch::Tensor weights;  ///< (B, H, Tq, Tk) when asked for, else undefined
};

/// Keys and values already projected and split into heads, for incremental decoding.
struct KeyValues {
  torch::Tensor k, v;  ///< (B, H, Tk, Dk) each (after append: views of the first Tk positions of k_room, v_room)
  /// Appends `more` along the key axis (a decoder's self-attention, one token at a time): written
  /// into room kept ahead (doubled when full), so a step copies its own keys, not the cache.
  void append(const KeyValues& more);
  /// Keeps the rows `index` (B') of the batch (beam search reorders its hypotheses).
  KeyValues select(const torch::Tensor& index) const;

  torch::Tensor k_room, v_room;  ///< (B, H, capacity, Dk): append's storage, or undefined
};

class MultiHeadAttentionImpl : public torch::nn::Cloneable<MultiHeadAttentionImpl> {
 public:
  explicit MultiHeadAttentionImpl(MultiHeadAttentionOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;

  /// xq (B, Tq, d_query_in), xk (B, Tk, d_key_in), xv (B, Tk, d_value_in);
  /// key_padding_mask: optional bool (B, Tk), true = padding; causal: query i sees keys <= i.
  MultiHeadAttentionOutput forward(const torch::Tensor& xq, const torch::Tensor& xk,
                                   const torch::Tensor& xv,
                                   const torch::Tensor& key_padding_mask = {},
                                   bool causal = false, bool need_weights = false);

  /// xk (B, Tk, d_key_in), xv (B, Tk, d_value_in) -> keys and values (B, H, Tk, Dk).
  KeyValues project_kv(const torch::Tensor& xk, const torch::Tensor& xv);
  /// xq (B, Tq, d_query_in) -> queries (B, H, Tq, Dk).
  torch::Tensor project_q(const torch::Tensor& xq);
  /// The queries xq (B, Tq, d_query_in) over keys and values from project_kv; no causal mask
  /// (a decoder's last token sees every key so far). -> (B, Tq, D), as forward() would give.
  torch::Tensor attend(const torch::Tensor& xq, const KeyValues& kv,
                       const torch::Tensor& key_padding_mask = {});

  MultiHeadAttentionOptions options;
  int64_t d_k;
  torch::nn::Linear W_q{nullptr}, W_k{nullptr}, W_v{nullptr}, W_h{nullptr};
};
TORCH_MODULE(MultiHeadAttention);

/// Sets the attention mode of every MultiHeadAttention inside `model` (e.g. evaluate a
/// soft-trained model with hard attention). Returns how many were changed.
int64_t set_attention_mode(torch::nn::Module& model, AttentionMode mode);

/// `mode` for every MultiHeadAttention whose place is one of `places`, soft for the others (the
/// decoder's self-attention soft and its cross-attention hard, say). Returns how many are `mode`.
int64_t set_attention_mode(torch::nn::Module& model, AttentionMode mode, const std::vector<AttentionPlace>& places);

/// Sets the inverse temperature of every MultiHeadAttention inside `model` whose place is one of
/// `places` (nullopt: 1/sqrt(d_k)).
void set_attention_beta(torch::nn::Module& model, std::optional<double> beta, const std::vector<AttentionPlace>& places);

}  // namespace attn
