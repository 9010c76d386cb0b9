#include "attn/model/build.h"

namespace attn {

LayerOptions layer_options(const ModelConfig& m) {
  return LayerOptions(m.d_model, m.heads, m.ffn_hidden)
      .activation(m.activation)
      .attention(m.attention)
      .hard_gradient(m.hard_gradient)
      .beta(m.beta > 0 ? std::optional<double>(m.beta) : std::nullopt)
      .norm(m.norm)
      .dropout(m.dropout)
      .attention_dropout(m.attention_dropout);
}

KernelChoice kernels_of(const ModelConfig& m) {
  return {m.attention_kernel, m.ffn_kernel, m.norm_kernel, m.loss_kernel};
}

SetClassifier build_classifier(const ModelConfig& m, int64_t vocab_size, int64_t num_classes) {
  auto embeddings = EmbeddingsOptions(vocab_size, m.d_model)
                        .positions(m.positions)
                        .max_positions(m.max_positions)
                        .dropout(m.dropout);
  SetClassifier model(SetClassifierOptions(EncoderOptions(embeddings, layer_options(m), m.layers), num_classes)
                          .pooling(m.pooling));
  use_attention(*model, m, m.attention);
  return model;
}

Seq2Seq build_seq2seq(const ModelConfig& m, int64_t source_vocab, int64_t target_vocab) {
  auto embeddings = [&](int64_t vocab, Positions positions) {
    return EmbeddingsOptions(vocab, m.d_model)
        .positions(positions)
        .max_positions(m.max_positions)
        .dropout(m.dropout);
  };
  const int64_t decoder_layers = m.decoder_layers > 0 ? m.decoder_layers : m.layers;
  Seq2Seq model(Seq2SeqOptions(EncoderOptions(embeddings(source_vocab, m.positions), layer_options(m), m.layers),
                               DecoderOptions(embeddings(target_vocab, m.decoder_positions), layer_options(m),
                                              decoder_layers))
                    .tie_output_embeddings(m.tie_embeddings));
  use_attention(*model, m, m.attention);
  return model;
}

void use_attention(torch::nn::Module& model, const ModelConfig& m, AttentionMode mode) {
  set_attention_mode(model, mode, m.hard_in);
}

void use_beta(torch::nn::Module& model, const ModelConfig& m, double beta) {
  set_attention_beta(model, beta, m.hard_in);
}

int64_t count_trainable(torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace attn
