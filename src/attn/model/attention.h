// Scaled dot-product attention, soft or hard, with key-padding and causal masks.
//
// Shapes: B batch, H heads, Tq queries, Tk keys (= values), Dk query/key width, Dv value width.
//   q (B, H, Tq, Dk), k (B, H, Tk, Dk), v (B, H, Tk, Dv)  ->  h (B, H, Tq, Dv), a (B, H, Tq, Tk)
//
// The lecture: a = [soft](arg)max_beta(K^T q), h = V a. Soft attention mixes the values
// (a >= 0, sum a = 1); hard attention retrieves exactly one (a is one-hot).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include "attn/core/choices.h"

namespace attn {

struct AttentionOptions {
  /// Soft (softargmax) or hard (one-hot argmax).
  TORCH_ARG(AttentionMode, mode) = AttentionMode::Soft;
  /// Inverse temperature applied to the scores; unset means 1/sqrt(Dk).
  TORCH_ARG(std::optional<double>, beta) = std::nullopt;
  /// Gradient rule for hard attention.
  TORCH_ARG(HardGradient, hard_gradient) = HardGradient::StraightThrough;
  /// Query i sees key j only when j <= i + (Tk - Tq): the queries are the last Tq of Tk positions.
  TORCH_ARG(bool, causal) = false;
  /// Dropout probability on the weights before they mix the values (pass 0 when evaluating).
  TORCH_ARG(double, dropout) = 0.0;
  /// Return the weights A as well as H.
  TORCH_ARG(bool, need_weights) = false;
};

struct AttentionOutput {
  torch::Tensor h;  ///< (B, H, Tq, Dv)
  torch::Tensor a;  ///< (B, H, Tq, Tk) when need_weights, else undefined
};

/// key_padding_mask: optional bool (B, Tk), true where the key is padding. Masked keys get
/// exactly zero weight; a query that sees no key at all gets all-zero weights and h = 0.
AttentionOutput scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v,
                                             const torch::Tensor& key_padding_mask,
                                             const AttentionOptions& options);

/// Self-attention from the packed projection qkv (B, T, 3D) = [q | k | v], `heads` heads of
/// D / heads: the same as scaled_dot_product_attention on the three (B, H, T, D / heads) views;
/// through the fused kernel, whose gradient comes back packed as well (no concatenation of
/// dq, dk, dv), where that applies.
AttentionOutput packed_self_attention(const torch::Tensor& qkv, int64_t heads, const torch::Tensor& key_padding_mask,
                                      const AttentionOptions& options);

/// One-hot of the argmax over the last dimension; ties go to the lowest index. No gradient.
torch::Tensor one_hot_argmax(const torch::Tensor& scores);

}  // namespace attn
