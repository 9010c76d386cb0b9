#include "attn/model/layer_options.h"

namespace attn {

LayerOptions::LayerOptions(int64_t d_model, int64_t num_heads, int64_t ffn_hidden)
    : d_model_(d_model), num_heads_(num_heads), ffn_hidden_(ffn_hidden) {}

StackOptions::StackOptions(EmbeddingsOptions embeddings, LayerOptions layer, int64_t num_layers)
    : embeddings_(std::move(embeddings)), layer_(std::move(layer)), num_layers_(num_layers) {}

void validate(const LayerOptions& o, const char* where) {
  TORCH_CHECK(o.d_model() > 0, where, ": d_model must be positive, got ", o.d_model());
  TORCH_CHECK(o.num_heads() > 0, where, ": num_heads must be positive, got ", o.num_heads());
  TORCH_CHECK(o.d_model() % o.num_heads() == 0, where, ": d_model (", o.d_model(),
              ") must be divisible by num_heads (", o.num_heads(), ")");
  TORCH_CHECK(o.ffn_hidden() > 0, where, ": ffn_hidden must be positive, got ", o.ffn_hidden());
  TORCH_CHECK(o.layer_norm_eps() > 0, where, ": layer_norm_eps must be positive, got ",
              o.layer_norm_eps());
  TORCH_CHECK(o.dropout() >= 0 && o.dropout() < 1, where, ": dropout must be in [0, 1), got ",
              o.dropout());
  TORCH_CHECK(o.attention_dropout() >= 0 && o.attention_dropout() < 1, where,
              ": attention_dropout must be in [0, 1), got ", o.attention_dropout());
}

void validate(const StackOptions& o, const char* where) {
  validate(o.layer(), where);
  TORCH_CHECK(o.num_layers() > 0, where, ": num_layers must be positive, got ", o.num_layers());
  TORCH_CHECK(o.embeddings().d_model() == o.layer().d_model(), where, ": embeddings have d_model ",
              o.embeddings().d_model(), " but the layers have d_model ", o.layer().d_model());
}

MultiHeadAttentionOptions attention_options(const LayerOptions& o) {
  return MultiHeadAttentionOptions(o.d_model(), o.num_heads())
      .mode(o.attention())
      .hard_gradient(o.hard_gradient())
      .beta(o.beta())
      .dropout(o.attention_dropout());
}

ConvFeedForwardOptions ffn_options(const LayerOptions& o) {
  return ConvFeedForwardOptions(o.d_model(), o.ffn_hidden()).activation(o.activation());
}

}  // namespace attn
