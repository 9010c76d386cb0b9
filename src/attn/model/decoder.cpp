#include "attn/model/decoder.h"

#include "attn/model/encoder.h"
#include "attn/model/residual.h"

namespace attn {

DecoderLayerImpl::DecoderLayerImpl(LayerOptions options_) : options(std::move(options_)) { reset(); }

void DecoderLayerImpl::reset() {
  validate(options, "DecoderLayer");
  const int64_t d = options.d_model();
  const double eps = options.layer_norm_eps();
  self_mha = register_module("self_mha", MultiHeadAttention(attention_options(options).place(AttentionPlace::Decoder)));
  layernorm1 = register_module("layernorm1", layer_norm(d, eps));
  cross_mha = register_module("cross_mha", MultiHeadAttention(attention_options(options).place(AttentionPlace::Cross)));
  layernorm2 = register_module("layernorm2", layer_norm(d, eps));
  cnn = register_module("cnn", ConvFeedForward(ffn_options(options)));
  layernorm3 = register_module("layernorm3", layer_norm(d, eps));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& y, const torch::Tensor& memory,
                                        const torch::Tensor& tgt_padding,
                                        const torch::Tensor& memory_padding) {
  const Residual residual{options.norm(), options.dropout(), is_training()};
  auto h1 = residual(y, layernorm1, [&](const torch::Tensor& x) {
    return self_mha->forward(x, x, x, tgt_padding, /*causal=*/true).output;  // masked self-attention (B, T, D)
  });
  auto h2 = residual(h1, layernorm2, [&](const torch::Tensor& x) {
    return cross_mha->forward(x, memory, memory, memory_padding).output;     // cross-attention (B, T, D)
  });
  return residual(h2, layernorm3, cnn);                                      // (B, T, D)
}

torch::Tensor DecoderLayerImpl::step(const torch::Tensor& y, DecoderLayerCache& cache,
                                     const torch::Tensor& memory_padding) {
  const Residual residual{options.norm(), options.dropout(), is_training()};
  auto h1 = residual(y, layernorm1, [&](const torch::Tensor& x) {
    cache.self.append(self_mha->project_kv(x, x));                           // (B, H, t + 1, Dk)
    return self_mha->attend(x, cache.self);                                  // (B, 1, D)
  });
  auto h2 = residual(h1, layernorm2, [&](const torch::Tensor& x) {
    return cross_mha->attend(x, cache.cross, memory_padding);                // (B, 1, D)
  });
  return residual(h2, layernorm3, cnn);                                      // (B, 1, D)
}

void DecoderCache::select(const torch::Tensor& index) {
  for (auto& layer : layers) layer.self = layer.self.select(index), layer.cross = layer.cross.select(index);
}

void DecoderCache::reorder_within_sentences(const torch::Tensor& index) {
  for (auto& layer : layers) layer.self = layer.self.select(index);
}

DecoderImpl::DecoderImpl(DecoderOptions options_) : options(std::move(options_)) { reset(); }

void DecoderImpl::reset() {
  validate(options, "Decoder");
  embedding = register_module("embedding", Embeddings(options.embeddings()));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) layers->push_back(DecoderLayer(options.layer()));
  if (options.layer().norm() == NormPlacement::Pre)
    final_norm = register_module("final_norm", layer_norm(options.layer().d_model(),
                                                          options.layer().layer_norm_eps()));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& memory,
                                   const torch::Tensor& tgt_padding,
                                   const torch::Tensor& memory_padding) {
  TORCH_CHECK(memory.dim() == 3 && memory.size(0) == ids.size(0) &&
                  memory.size(2) == options.layer().d_model(),
              "Decoder: memory must be (B, S, D) = (", ids.size(0), ", S, ",
              options.layer().d_model(), "), got ", memory.sizes());
  auto x = embedding(ids);                                                 // (B, T, D)
  for (const auto& layer : *layers)
    x = layer->as<DecoderLayerImpl>()->forward(x, memory, tgt_padding, memory_padding);
  return final_norm ? final_norm(x) : x;
}

DecoderCache DecoderImpl::start(const torch::Tensor& memory) {
  DecoderCache cache;
  for (const auto& layer : *layers) {
    auto* l = layer->as<DecoderLayerImpl>();
    cache.layers.push_back({KeyValues{}, l->cross_mha->project_kv(memory, memory)});
  }
  return cache;
}

torch::Tensor DecoderImpl::step(const torch::Tensor& ids, DecoderCache& cache,
                                const torch::Tensor& memory_padding) {
  auto x = embedding(ids, cache.length);                                   // (B, 1, D)
  for (size_t i = 0; i < layers->size(); ++i)
    x = layers[i]->as<DecoderLayerImpl>()->step(x, cache.layers[i], memory_padding);
  ++cache.length;
  return final_norm ? final_norm(x) : x;                                   // (B, 1, D)
}

}  // namespace attn
