// Add & Norm around a sub-layer f, in either placement:
//   post-norm (the notebook): LN(x + dropout(f(x)))
//   pre-norm:                 x + dropout(f(LN(x)))
#pragma once

#include <torch/torch.h>

#include "attn/model/conv_ffn.h"
#include "attn/ops/dropout.h"
#include "attn/ops/fused_add_norm.h"
#include "attn/model/layer_options.h"

namespace attn {

/// `fused`: the add and the LayerNorm of post-norm in one pass, and pre-norm's LayerNorm, through
/// the fused kernel where it applies (attn/ops/fused_add_norm.h).
template <class SubLayer>
torch::Tensor add_norm(const torch::Tensor& x, torch::nn::LayerNorm& norm, NormPlacement where,
                       double dropout, bool training, bool fused, SubLayer&& f) {
  if (where == NormPlacement::Pre)
    return x + attn::dropout(f(add_layer_norm(x, torch::Tensor(), norm, fused)), dropout, training);
  return add_layer_norm(x, attn::dropout(f(x), dropout, training), norm, fused);
}

/// add_norm around the 1-convolution. Post-norm without dropout: LN(ffn->forward_residual(x)),
/// the residual add inside the feed-forward kernel (one pass fewer, and one gradient for x
/// instead of two that autograd adds up); otherwise add_norm.
inline torch::Tensor ffn_add_norm(const torch::Tensor& x, ConvFeedForward& ffn, torch::nn::LayerNorm& norm,
                                  NormPlacement where, double dropout, bool training, bool fused) {
  if (where == NormPlacement::Post && !(training && dropout > 0))
    return add_layer_norm(ffn->forward_residual(x), torch::Tensor(), norm, fused);
  return add_norm(x, norm, where, dropout, training, fused, [&](const torch::Tensor& y) { return ffn(y); });
}

}  // namespace attn
