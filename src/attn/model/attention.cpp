#include "attn/model/attention.h"

#include <cmath>
#include <limits>

#include "attn/ops/dropout.h"
#include "attn/ops/fused_attention.h"
#include "attn/ops/kernel_choice.h"

namespace attn {

torch::Tensor one_hot_argmax(const torch::Tensor& scores) {
  // torch::argmax returns the first maximal index: that is the documented tie rule.
  auto index = scores.argmax(-1, /*keepdim=*/true);                      // (..., 1)
  return torch::zeros_like(scores).scatter_(-1, index, 1.0);             // (..., Tk)
}

namespace {

// Hard attention with a straight-through gradient: the forward pass is the one-hot argmax,
// the backward pass is that of softargmax(scores), so that queries and keys still learn.
struct StraightThroughArgmax : public torch::autograd::Function<StraightThroughArgmax> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& scores) {
    ctx->save_for_backward({torch::softmax(scores, -1)});
    return one_hot_argmax(scores);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto soft = ctx->get_saved_variables()[0];                      // (..., Tk)
    const auto& g = grad[0];                                               // (..., Tk)
    return {soft * (g - (g * soft).sum(-1, /*keepdim=*/true))};            // softmax backward
  }
};

double resolved_beta(const AttentionOptions& options, int64_t d) {
  const double beta = options.beta().value_or(1.0 / std::sqrt(static_cast<double>(d)));
  TORCH_CHECK(beta > 0 && std::isfinite(beta), "attention: beta must be positive and finite, got ",
              beta);
  return beta;
}

// The tiled kernel (attn/ops/fused_attention.h) where it computes the same as the formula below.
bool runs_fused(const torch::Tensor& q, const AttentionOptions& o) {
  return fused_attention_applies(q, o.need_weights(), o.dropout());
}

void check_mask(const torch::Tensor& key_padding_mask, int64_t B, int64_t Tk) {
  if (!key_padding_mask.defined()) return;
  TORCH_CHECK(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == B &&
                  key_padding_mask.size(1) == Tk,
              "attention: key_padding_mask must be (B, Tk) = (", B, ", ", Tk, "), got ",
              key_padding_mask.sizes());
  TORCH_CHECK(key_padding_mask.scalar_type() == torch::kBool,
              "attention: key_padding_mask must be bool (true = padding), got ",
              key_padding_mask.scalar_type());
}

}  // namespace

AttentionOutput packed_self_attention(const torch::Tensor& qkv, int64_t heads, const torch::Tensor& key_padding_mask,
                                      const AttentionOptions& options) {
  TORCH_CHECK(qkv.dim() == 3 && heads > 0 && qkv.size(2) % (3 * heads) == 0,
              "attention: a packed projection must be (B, T, 3 x heads x d_k), got ", qkv.sizes(), " for ",
              heads, " heads");
  const int64_t B = qkv.size(0), T = qkv.size(1), D = qkv.size(2) / 3;
  if (runs_fused(qkv, options)) {
    check_mask(key_padding_mask, B, T);
    return {fused_self_attention(qkv, heads, key_padding_mask, resolved_beta(options, D / heads), options.causal(),
                                 options.mode(), options.hard_gradient()),
            torch::Tensor()};
  }
  const auto [q, k, v] = packed_heads(qkv, heads);
  return scaled_dot_product_attention(q, k, v, key_padding_mask, options);
}

AttentionOutput scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v,
                                             const torch::Tensor& key_padding_mask,
                                             const AttentionOptions& options) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
              "attention expects q, k, v of shape (B, H, T, D), got ", q.sizes(), ", ", k.sizes(),
              ", ", v.sizes());
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2);
  TORCH_CHECK(k.size(0) == B && v.size(0) == B && k.size(1) == H && v.size(1) == H,
              "attention: q, k, v must agree on batch and heads, got ", q.sizes(), ", ", k.sizes(),
              ", ", v.sizes());
  TORCH_CHECK(k.size(3) == q.size(3), "attention: queries have width ", q.size(3),
              " but keys have width ", k.size(3));
  TORCH_CHECK(v.size(2) == Tk, "attention: ", Tk, " keys but ", v.size(2), " values");
  const double beta = resolved_beta(options, q.size(3));
  check_mask(key_padding_mask, B, Tk);
  if (runs_fused(q, options))
    return {fused_attention(q, k, v, key_padding_mask, beta, options.causal(), options.mode(), options.hard_gradient()),
            torch::Tensor()};

  torch::Tensor hidden;  // true where query i may not see key j; broadcasts to (B, H, Tq, Tk)
  if (key_padding_mask.defined()) hidden = key_padding_mask.view({B, 1, 1, Tk});  // (B, 1, 1, Tk)
  if (options.causal()) {
    const auto idx = q.options().dtype(torch::kLong);
    auto i = torch::arange(Tq, idx).view({Tq, 1});                         // (Tq, 1)
    auto j = torch::arange(Tk, idx).view({1, Tk});                         // (1, Tk)
    auto future = (j > i + (Tk - Tq)).view({1, 1, Tq, Tk});               // (1, 1, Tq, Tk)
    hidden = hidden.defined() ? hidden.logical_or(future) : future;
  }
  torch::Tensor blind;  // queries that see no key at all: (B or 1, 1, Tq or 1, 1)
  if (hidden.defined()) blind = hidden.all(-1, /*keepdim=*/true);

#if TORCH_VERSION_MAJOR >= 2
  // CUDA: LibTorch's flash / memory-efficient kernels. Their boolean mask is true where a key
  // takes part, and their scale is 1/sqrt(D); a query that sees no key would come out NaN there,
  // so such calls keep the reference path below.
  if (kernel_choice().attention == Kernel::Fused && q.is_cuda() && options.mode() == AttentionMode::Soft &&
      !options.need_weights() && !(blind.defined() && blind.any().item<bool>())) {
    c10::optional<torch::Tensor> allowed;
    if (hidden.defined()) allowed = hidden.logical_not();
    auto h = at::scaled_dot_product_attention(q * (beta * std::sqrt(static_cast<double>(q.size(3)))), k, v,
                                              allowed, options.dropout(), /*is_causal=*/false);
    return {h, torch::Tensor()};                                           // (B, H, Tq, Dv)
  }
#endif

  auto scores = torch::matmul(q * beta, k.transpose(-2, -1));             // (B, H, Tq, Tk)
  if (hidden.defined()) {
    scores = scores.masked_fill(hidden, -std::numeric_limits<double>::infinity());
    scores = scores.masked_fill(blind, 0.0);  // keeps softmax finite; zeroed again below
  }

  torch::Tensor a;                                                         // (B, H, Tq, Tk)
  if (options.mode() == AttentionMode::Soft) {
    a = torch::softmax(scores, -1);
  } else if (options.hard_gradient() == HardGradient::StraightThrough) {
    a = StraightThroughArgmax::apply(scores);
  } else {
    a = one_hot_argmax(scores.detach());
  }
  if (blind.defined()) a = a.masked_fill(blind, 0.0);

  auto mix = attn::dropout(a, options.dropout(), /*training=*/true);
  auto h = torch::matmul(mix, v);                                          // (B, H, Tq, Dv)
  return {h, options.need_weights() ? a : torch::Tensor()};
}

}  // namespace attn
