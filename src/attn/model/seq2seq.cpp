#include "attn/model/seq2seq.h"

namespace attn {

Seq2SeqOptions::Seq2SeqOptions(EncoderOptions encoder, DecoderOptions decoder)
    : encoder_(std::move(encoder)), decoder_(std::move(decoder)) {}

Seq2SeqImpl::Seq2SeqImpl(Seq2SeqOptions options_) : options(std::move(options_)) {
  const int64_t de = options.encoder().layer().d_model(), dd = options.decoder().layer().d_model();
  TORCH_CHECK(de == dd, "Seq2Seq: the encoder has d_model ", de, " but the decoder has d_model ",
              dd, " (cross-attention needs them equal)");
  encoder = register_module("encoder", Encoder(options.encoder()));
  decoder = register_module("decoder", Decoder(options.decoder()));
  const int64_t vocab = options.decoder().embeddings().vocab_size();
  if (options.tie_output_embeddings())
    generator_bias = register_parameter("generator_bias", torch::zeros({vocab}));
  else
    generator = register_module("generator", torch::nn::Linear(dd, vocab));
}

torch::Tensor Seq2SeqImpl::encode(const torch::Tensor& src, const torch::Tensor& src_padding) {
  return encoder(src, src_padding);                                        // (B, S, D)
}

torch::Tensor Seq2SeqImpl::project(const torch::Tensor& hidden) {
  if (generator) return generator(hidden);                                 // (B, T, V)
  const auto& tied = decoder->embedding->word_embeddings->weight;          // (V, D)
  return torch::nn::functional::linear(hidden, tied, generator_bias);      // (B, T, V)
}

torch::Tensor Seq2SeqImpl::decode(const torch::Tensor& tgt_in, const torch::Tensor& memory,
                                  const torch::Tensor& src_padding,
                                  const torch::Tensor& tgt_padding) {
  return project(decoder(tgt_in, memory, tgt_padding, src_padding));      // (B, T, V)
}

torch::Tensor Seq2SeqImpl::forward(const torch::Tensor& src, const torch::Tensor& tgt_in,
                                   const torch::Tensor& src_padding,
                                   const torch::Tensor& tgt_padding) {
  return decode(tgt_in, encode(src, src_padding), src_padding, tgt_padding);
}

}  // namespace attn
