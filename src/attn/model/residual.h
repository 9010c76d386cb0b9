// Add & Norm: the residual connection around each sub-layer f of a layer, in either placement:
//   post-norm (the notebook): LN(x + dropout(f(x)))
//   pre-norm:                 x + dropout(f(LN(x)))
// The add and the LayerNorm run in one pass where attn's kernel applies (attn/ops/fused_add_norm.h).
#pragma once

#include <torch/torch.h>

#include "attn/model/conv_ffn.h"
#include "attn/ops/dropout.h"
#include "attn/ops/fused_add_norm.h"

namespace attn {

struct Residual {
  NormPlacement where;
  double dropout;  ///< on f's output while training
  bool training;

  template <class SubLayer>
  torch::Tensor operator()(const torch::Tensor& x, torch::nn::LayerNorm& norm, SubLayer&& f) const {
    if (where == NormPlacement::Pre) return x + attn::dropout(f(add_layer_norm(x, {}, norm)), dropout, training);
    return add_layer_norm(x, attn::dropout(f(x), dropout, training), norm);
  }

  /// Around the 1-convolution. Post-norm without dropout: LN(ffn->forward_residual(x)), the add
  /// inside the feed-forward kernel (one pass fewer, and one gradient for x instead of two that
  /// autograd adds up); the same function as the general form.
  torch::Tensor operator()(const torch::Tensor& x, torch::nn::LayerNorm& norm, ConvFeedForward& ffn) const {
    if (where == NormPlacement::Post && !(training && dropout > 0))
      return add_layer_norm(ffn->forward_residual(x), {}, norm);
    return (*this)(x, norm, [&](const torch::Tensor& y) { return ffn(y); });
  }
};

}  // namespace attn
