#include "attn/model/conv_ffn.h"

#include "attn/ops/dropout.h"
#include "attn/ops/fused_ffn.h"

namespace attn {

ConvFeedForwardOptions::ConvFeedForwardOptions(int64_t d_model, int64_t hidden)
    : d_model_(d_model), hidden_(hidden) {}

ConvFeedForwardImpl::ConvFeedForwardImpl(ConvFeedForwardOptions options_) : options(std::move(options_)) { reset(); }

void ConvFeedForwardImpl::reset() {
  TORCH_CHECK(options.d_model() > 0, "ConvFeedForward: d_model must be positive, got ",
              options.d_model());
  TORCH_CHECK(options.hidden() > 0, "ConvFeedForward: hidden must be positive, got ",
              options.hidden());
  TORCH_CHECK(options.dropout() >= 0 && options.dropout() < 1,
              "ConvFeedForward: dropout must be in [0, 1), got ", options.dropout());
  using torch::nn::Conv1dOptions;
  k1convL1 = register_module(
      "k1convL1", torch::nn::Conv1d(Conv1dOptions(options.d_model(), options.hidden(), 1)));
  k1convL2 = register_module(
      "k1convL2", torch::nn::Conv1d(Conv1dOptions(options.hidden(), options.d_model(), 1)));
}

bool ConvFeedForwardImpl::runs_fused(const torch::Tensor& x) const {
  return fused_ffn_applies(x, options.activation(), options.dropout(), is_training());
}

torch::Tensor ConvFeedForwardImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options.d_model(),
              "ConvFeedForward expects (B, T, ", options.d_model(), "), got ", x.sizes());
  // A kernel-size-1 convolution of (B, D, T) is a Linear of (B, T, D) with the kernel's (F, D)
  // weights: computed so, one matrix product each, without the convolution's transposes.
  auto w1 = k1convL1->weight.squeeze(-1), w2 = k1convL2->weight.squeeze(-1);  // (F, D), (D, F)
  if (runs_fused(x)) return fused_ffn(x, w1, k1convL1->bias, w2, k1convL2->bias);
  namespace F = torch::nn::functional;
  auto h = F::linear(x, w1, k1convL1->bias);                                  // (B, T, F)
  h = options.activation() == Activation::GELU ? torch::gelu(h) : torch::relu_(h);
  h = attn::dropout(h, options.dropout(), is_training());
  return F::linear(h, w2, k1convL2->bias);                                // (B, T, D)
}

torch::Tensor ConvFeedForwardImpl::forward_residual(const torch::Tensor& x) {
  if (x.dim() == 3 && x.size(2) == options.d_model() && runs_fused(x))
    return fused_ffn(x, k1convL1->weight.squeeze(-1), k1convL1->bias, k1convL2->weight.squeeze(-1),
                     k1convL2->bias, /*residual=*/true);                   // (B, T, D)
  return x + forward(x);                                                   // (B, T, D)
}

}  // namespace attn
