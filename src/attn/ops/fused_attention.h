// Attention through the tiled CPU kernels (attn/kernels/flash_kernels.h), as a custom autograd
// function: the same results as the reference computation (attn/model/attention.cpp), in O(t)
// memory instead of O(t^2), and faster (see docs/speed.md).
//
// Shapes: q (B, H, Tq, D), k (B, H, Tk, D), v (B, H, Tk, Dv) -> h (B, H, Tq, Dv). h is a view of
// a (B, Tq, H, Dv) buffer, so that joining the heads afterwards costs no copy.
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

#include "attn/core/choices.h"

namespace attn {

/// q, k, v as (B, heads, T, D / heads) views of the packed projection qkv (B, T, 3D) =
/// [q | k | v]: no copies.
std::array<torch::Tensor, 3> packed_heads(const torch::Tensor& qkv, int64_t heads);

/// Whether the fused kernel computes this call: the fused kernel chosen (kernel_choice()), CPU
/// tensors of float or double, no weights asked for, and no dropout on them.
bool fused_attention_applies(const torch::Tensor& q, bool need_weights, double dropout);

/// Soft or hard attention as the lecture's scaled_dot_product_attention, masks included: query i
/// sees key j unless the key is padding or (`causal`) j > i + (Tk - Tq). The shapes and the mask
/// are checked by the caller. `beta` is the resolved inverse temperature.
torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& key_padding_mask, double beta, bool causal, AttentionMode mode,
                              HardGradient hard_gradient);

/// The same from the packed self-attention projection qkv (B, T, 3 heads Dk) = [q | k | v];
/// the gradient of qkv comes back as one (B, T, 3 heads Dk) tensor.
torch::Tensor fused_self_attention(const torch::Tensor& qkv, int64_t heads, const torch::Tensor& key_padding_mask,
                                   double beta, bool causal, AttentionMode mode, HardGradient hard_gradient);

/// "avx512", "avx2" or "generic": the kernels this CPU runs.
std::string fused_attention_isa();

/// Backward schemes, for tests: `Auto` picks by the amount of parallel work.
enum class FusedBackward { Auto, PerHead, Split };
void set_fused_backward(FusedBackward scheme);

}  // namespace attn
