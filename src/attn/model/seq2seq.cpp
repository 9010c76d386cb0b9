#include "attn/model/seq2seq.h"

#include <cmath>

#include "attn/ops/blocked_linear.h"

namespace attn {

Seq2SeqOptions::Seq2SeqOptions(EncoderOptions encoder, DecoderOptions decoder)
    : encoder_(std::move(encoder)), decoder_(std::move(decoder)) {}

Seq2SeqImpl::Seq2SeqImpl(Seq2SeqOptions options_) : options(std::move(options_)) { reset(); }

void Seq2SeqImpl::reset() {
  const int64_t de = options.encoder().layer().d_model(), dd = options.decoder().layer().d_model();
  TORCH_CHECK(de == dd, "Seq2Seq: the encoder has d_model ", de, " but the decoder has d_model ",
              dd, " (cross-attention needs them equal)");
  encoder = register_module("encoder", Encoder(options.encoder()));
  decoder = register_module("decoder", Decoder(options.decoder()));
  const int64_t vocab = options.decoder().embeddings().vocab_size();
  if (options.tie_output_embeddings()) {
    generator_bias = register_parameter("generator_bias", torch::zeros({vocab}));
    // The embedding is followed by a LayerNorm on the way in, so its scale only matters on the
    // way out: N(0, 1/D) gives logits of unit scale at the start (N(0, 1) gives sqrt(D)).
    torch::NoGradGuard no_grad;
    auto& w = decoder->embedding->word_embeddings->weight;                 // (V, D)
    w.normal_(0, 1.0 / std::sqrt(static_cast<double>(dd)));
    w[options.decoder().embeddings().padding_idx()].zero_();
  }
  else
    generator = register_module("generator", torch::nn::Linear(dd, vocab));
}

torch::Tensor Seq2SeqImpl::encode(const torch::Tensor& src, const torch::Tensor& src_padding) {
  return encoder(src, src_padding);                                        // (B, S, D)
}

torch::Tensor Seq2SeqImpl::project(const torch::Tensor& hidden) {
  const auto [weight, bias] = output_projection();                        // (V, D), (V)
  return torch::nn::functional::linear(hidden, weight, bias);              // (B, T, V)
}

TokenLoss Seq2SeqImpl::loss(const torch::Tensor& src, const torch::Tensor& tgt_in, const torch::Tensor& tgt_out,
                             const torch::Tensor& src_padding, const torch::Tensor& tgt_padding,
                             double label_smoothing) {
  auto hidden = decoder(tgt_in, encode(src, src_padding), tgt_padding, src_padding);  // (B, T, D)
  const auto [weight, bias] = output_projection();                                    // (V, D), (V)
  return linear_cross_entropy(hidden, weight, bias, tgt_out, options.decoder().embeddings().padding_idx(),
                              label_smoothing);
}

torch::Tensor Seq2SeqImpl::decode(const torch::Tensor& tgt_in, const torch::Tensor& memory,
                                  const torch::Tensor& src_padding,
                                  const torch::Tensor& tgt_padding) {
  return project(decoder(tgt_in, memory, tgt_padding, src_padding));      // (B, T, V)
}

DecoderCache Seq2SeqImpl::start_decoding(const torch::Tensor& memory) {
  return decoder->start(memory);
}

torch::Tensor Seq2SeqImpl::decode_step(const torch::Tensor& ids, DecoderCache& cache,
                                       const torch::Tensor& src_padding) {
  // One row per sentence: the projection's kernel for few rows (attn/ops/blocked_linear.h), which
  // reads the (V, D) weight once rather than packing it first.
  const auto [weight, bias] = output_projection();                        // (V, D), (V)
  return linear_layer(decoder->step(ids, cache, src_padding), weight, bias).squeeze(1);  // (B, V)
}

std::pair<torch::Tensor, torch::Tensor> Seq2SeqImpl::output_projection() const {
  if (generator) return {generator->weight, generator->bias};
  return {decoder->embedding->word_embeddings->weight, generator_bias};
}

torch::Tensor Seq2SeqImpl::forward(const torch::Tensor& src, const torch::Tensor& tgt_in,
                                   const torch::Tensor& src_padding,
                                   const torch::Tensor& tgt_padding) {
  return decode(tgt_in, encode(src, src_padding), src_padding, tgt_padding);
}

}  // namespace attn
