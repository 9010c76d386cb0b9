#include "attn/model/set_classifier.h"

#include <limits>

#include "attn/ops/set_max_pool.h"

namespace attn {

SetClassifierOptions::SetClassifierOptions(EncoderOptions encoder, int64_t num_classes)
    : encoder_(std::move(encoder)), num_classes_(num_classes) {}

torch::Tensor pool_max(const torch::Tensor& x, const torch::Tensor& padding) {
  if (set_max_pool_applies(x)) return set_max_pool(x, padding);             // (B, D), one parallel pass
  if (!padding.defined()) return std::get<0>(x.max(1));                  // (B, D)
  auto pad = padding.unsqueeze(-1);                                        // (B, T, 1)
  auto pooled = std::get<0>(
      x.masked_fill(pad, -std::numeric_limits<double>::infinity()).max(1));  // (B, D)
  return pooled.masked_fill(padding.all(1, /*keepdim=*/true), 0.0);      // empty sets -> 0
}

torch::Tensor pool_mean(const torch::Tensor& x, const torch::Tensor& padding) {
  if (!padding.defined()) return x.mean(1);                                // (B, D)
  auto keep = padding.logical_not().unsqueeze(-1).to(x.scalar_type());     // (B, T, 1)
  return (x * keep).sum(1) / keep.sum(1).clamp_min(1.0);                   // (B, D)
}

SetClassifierImpl::SetClassifierImpl(SetClassifierOptions options_) : options(std::move(options_)) { reset(); }

void SetClassifierImpl::reset() {
  TORCH_CHECK(options.num_classes() >= 2, "SetClassifier: num_classes must be at least 2, got ",
              options.num_classes());
  encoder = register_module("encoder", Encoder(options.encoder()));
  const auto& layer = options.encoder().layer();
  const int64_t d = layer.d_model();
  if (options.pooling() == Pooling::Attention) {
    pool_query = register_parameter("pool_query", torch::randn({1, 1, d}) / std::sqrt(double(d)));
    pool_attention =
        register_module("pool_attention", MultiHeadAttention(attention_options(layer).place(AttentionPlace::Pooling)));
  }
  dense = register_module("dense", torch::nn::Linear(d, options.num_classes()));
}

torch::Tensor SetClassifierImpl::embed(const torch::Tensor& ids,
                                       const torch::Tensor& key_padding_mask) {
  auto x = encoder(ids, key_padding_mask);                                 // (B, T, D)
  switch (options.pooling()) {
    case Pooling::Max: return pool_max(x, key_padding_mask);               // (B, D)
    case Pooling::Mean: return pool_mean(x, key_padding_mask);             // (B, D)
    case Pooling::Attention: {
      auto q = pool_query.expand({x.size(0), 1, x.size(2)});               // (B, 1, D)
      return pool_attention->forward(q, x, x, key_padding_mask).output.squeeze(1);  // (B, D)
    }
  }
  TORCH_CHECK(false, "SetClassifier: unknown pooling");
}

torch::Tensor SetClassifierImpl::forward(const torch::Tensor& ids,
                                         const torch::Tensor& key_padding_mask) {
  return dense(embed(ids, key_padding_mask));                              // (B, C)
}

}  // namespace attn
