#include "attn/model/build.h"

namespace attn {

LayerOptions layer_options(const ModelConfig& m) {
  return LayerOptions(m.d_model, m.heads, m.ffn_hidden)
      .activation(parse<Activation>(m.activation))
      .attention(parse<AttentionMode>(m.attention))
      .hard_gradient(parse<HardGradient>(m.hard_gradient))
      .beta(m.beta > 0 ? std::optional<double>(m.beta) : std::nullopt)
      .norm(parse<NormPlacement>(m.norm))
      .dropout(m.dropout)
      .attention_dropout(m.attention_dropout);
}

KernelChoice kernels_of(const ModelConfig& m) {
  return {m.attention_kernel, m.ffn_kernel, m.norm_kernel, m.loss_kernel};
}

SetClassifier build_classifier(const ModelConfig& m, int64_t vocab_size, int64_t num_classes) {
  auto embeddings = EmbeddingsOptions(vocab_size, m.d_model)
                        .positions(parse<Positions>(m.positions))
                        .max_positions(m.max_positions)
                        .dropout(m.dropout);
  SetClassifier model(SetClassifierOptions(EncoderOptions(embeddings, layer_options(m), m.layers), num_classes)
                          .pooling(parse<Pooling>(m.pooling)));
  use_attention(*model, m, parse<AttentionMode>(m.attention));
  return model;
}

Seq2Seq build_seq2seq(const ModelConfig& m, int64_t source_vocab, int64_t target_vocab) {
  auto embeddings = [&](int64_t vocab, const std::string& positions) {
    return EmbeddingsOptions(vocab, m.d_model)
        .positions(parse<Positions>(positions))
        .max_positions(m.max_positions)
        .dropout(m.dropout);
  };
  const int64_t decoder_layers = m.decoder_layers > 0 ? m.decoder_layers : m.layers;
  Seq2Seq model(Seq2SeqOptions(EncoderOptions(embeddings(source_vocab, m.positions), layer_options(m), m.layers),
                               DecoderOptions(embeddings(target_vocab, m.decoder_positions), layer_options(m),
                                              decoder_layers))
                    .tie_output_embeddings(m.tie_embeddings));
  use_attention(*model, m, parse<AttentionMode>(m.attention));
  return model;
}

std::vector<AttentionPlace> hard_places(const ModelConfig& m) {
  std::vector<AttentionPlace> places;
  for (const auto& name : m.hard_in) places.push_back(parse<AttentionPlace>(name));
  return places;
}

void use_attention(torch::nn::Module& model, const ModelConfig& m, AttentionMode mode) {
  set_attention_mode(model, mode, hard_places(m));
}

void use_beta(torch::nn::Module& model, const ModelConfig& m, double beta) {
  set_attention_beta(model, beta, hard_places(m));
}

int64_t count_trainable(torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace attn
