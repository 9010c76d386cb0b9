// Set to set: encoder + decoder + a projection to the target vocabulary ("for neural machine
// translation"), optionally tied to the target embedding.
//
// Shapes: B batch, S source length, T target length, D d_model, V target vocabulary.
#pragma once

#include <torch/torch.h>

#include "attn/model/decoder.h"
#include "attn/model/encoder.h"
#include "attn/ops/linear_cross_entropy.h"

namespace attn {

struct Seq2SeqOptions {
  Seq2SeqOptions(EncoderOptions encoder, DecoderOptions decoder);
  TORCH_ARG(EncoderOptions, encoder);
  TORCH_ARG(DecoderOptions, decoder);
  /// Use the decoder's token embedding as the output projection's weight.
  TORCH_ARG(bool, tie_output_embeddings) = false;
};

class Seq2SeqImpl : public torch::nn::Cloneable<Seq2SeqImpl> {
 public:
  explicit Seq2SeqImpl(Seq2SeqOptions options);
  /// Creates the submodules and parameters from `options` (again, for clone()).
  void reset() override;

  /// src (B, S), tgt_in (B, T): the target shifted right (teacher forcing). Masks optional bool,
  /// true = padding: src_padding (B, S), tgt_padding (B, T).  -> logits (B, T, V)
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in,
                        const torch::Tensor& src_padding = {},
                        const torch::Tensor& tgt_padding = {});
  /// src (B, S) -> memory (B, S, D)
  torch::Tensor encode(const torch::Tensor& src, const torch::Tensor& src_padding = {});
  /// tgt_in (B, T), memory (B, S, D) -> logits (B, T, V)
  torch::Tensor decode(const torch::Tensor& tgt_in, const torch::Tensor& memory,
                       const torch::Tensor& src_padding = {},
                       const torch::Tensor& tgt_padding = {});
  /// hidden (B, T, D) -> logits (B, T, V)
  torch::Tensor project(const torch::Tensor& hidden);
  /// The training loss: tgt_out (B, T), the next tokens, scored by label-smoothed cross-entropy
  /// (smoothing in [0, 1)), averaged over those that are not padding. The projection and the
  /// loss run as one operation (attn/ops/linear_cross_entropy.h): the same value as
  /// cross_entropy(forward(...)), without the (B, T, V) logits in memory.
  TokenLoss loss(const torch::Tensor& src, const torch::Tensor& tgt_in, const torch::Tensor& tgt_out,
                 const torch::Tensor& src_padding, const torch::Tensor& tgt_padding, double label_smoothing);
  /// Incremental decoding: a cache over memory (B, S, D), then one token at a time.
  DecoderCache start_decoding(const torch::Tensor& memory);
  /// ids (B, 1), the token at position cache.length -> logits (B, V) for the next token.
  torch::Tensor decode_step(const torch::Tensor& ids, DecoderCache& cache,
                            const torch::Tensor& src_padding = {});

  Seq2SeqOptions options;
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Linear generator{nullptr};  // untied only
  torch::Tensor generator_bias;          // tied only: the weight is the decoder's embedding

 private:
  /// The output projection's weight (V, D) and bias (V): the generator's, or the tied ones.
  std::pair<torch::Tensor, torch::Tensor> output_projection() const;
};
TORCH_MODULE(Seq2Seq);

}  // namespace attn
