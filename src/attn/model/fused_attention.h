// Attention through the tiled CPU kernels (attn/kernels/flash_kernels.h), as a custom autograd
// function: the same results as the reference computation in attention.cpp, in O(t) memory
// instead of O(t^2), and faster (see README, "Speed").
//
// Shapes: q (B, H, Tq, D), k (B, H, Tk, D), v (B, H, Tk, Dv) -> h (B, H, Tq, Dv). h is a view of
// a (B, Tq, H, Dv) buffer, so that joining the heads afterwards costs no copy.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/model/attention.h"

namespace attn {

/// Whether the fused kernel computes this call: CPU tensors of float or double, no weights
/// asked for, and no dropout on them.
bool fused_attention_applies(const torch::Tensor& q, const AttentionOptions& options);

/// Soft or hard attention as scaled_dot_product_attention, masks and beta included. The shapes
/// and the mask are checked by the caller. `beta` is the resolved inverse temperature.
torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& key_padding_mask, double beta, const AttentionOptions& options);

/// The same from the packed self-attention projection qkv (B, T, 3 heads Dk) = [q | k | v];
/// the gradient of qkv comes back as one (B, T, 3 heads Dk) tensor.
torch::Tensor fused_self_attention(const torch::Tensor& qkv, int64_t heads, const torch::Tensor& key_padding_mask,
                                   double beta, const AttentionOptions& options);

/// "avx512", "avx2" or "generic": the kernels this CPU runs.
std::string fused_attention_isa();

/// Backward schemes, for tests: `Auto` picks by the amount of parallel work.
enum class FusedBackward { Auto, PerHead, Split };
void set_fused_backward(FusedBackward scheme);

}  // namespace attn
