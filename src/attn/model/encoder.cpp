#include "attn/model/encoder.h"

#include "attn/model/residual.h"

namespace attn {

torch::nn::LayerNorm layer_norm(int64_t d, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(eps));
}

EncoderLayerImpl::EncoderLayerImpl(LayerOptions options_) : options(std::move(options_)) { reset(); }

void EncoderLayerImpl::reset() {
  validate(options, "EncoderLayer");
  mha = register_module("mha", MultiHeadAttention(attention_options(options)));
  cnn = register_module("cnn", ConvFeedForward(ffn_options(options)));
  layernorm1 = register_module("layernorm1", layer_norm(options.d_model(), options.layer_norm_eps()));
  layernorm2 = register_module("layernorm2", layer_norm(options.d_model(), options.layer_norm_eps()));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask) {
  const Residual residual{options.norm(), options.dropout(), is_training()};
  auto h = residual(x, layernorm1, [&](const torch::Tensor& y) {
    return mha->forward(y, y, y, key_padding_mask).output;                 // self-attention (B, T, D)
  });
  return residual(h, layernorm2, cnn);                                     // (B, T, D)
}

EncoderImpl::EncoderImpl(EncoderOptions options_) : options(std::move(options_)) { reset(); }

void EncoderImpl::reset() {
  validate(options, "Encoder");
  embedding = register_module("embedding", Embeddings(options.embeddings()));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) layers->push_back(EncoderLayer(options.layer()));
  if (options.layer().norm() == NormPlacement::Pre)
    final_norm = register_module("final_norm", layer_norm(options.layer().d_model(),
                                                          options.layer().layer_norm_eps()));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& key_padding_mask) {
  auto x = embedding(ids);                                                 // (B, T, D)
  for (const auto& layer : *layers) x = layer->as<EncoderLayerImpl>()->forward(x, key_padding_mask);
  return final_norm ? final_norm(x) : x;
}

}  // namespace attn
