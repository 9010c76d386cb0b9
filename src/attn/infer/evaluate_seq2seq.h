// Evaluation of an encoder-decoder: teacher-forced loss, perplexity and token accuracy, then
// (optionally) translation of every source with greedy or beam search, scored by corpus BLEU
// (sacreBLEU's default and lower-cased) and exact match of the token ids.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/data/seq2seq/seq2seq_data.h"
#include "attn/infer/search.h"
#include "attn/metrics/bleu.h"
#include "attn/model/seq2seq.h"

namespace attn {

struct Seq2SeqEvalResult {
  double loss = 0;            ///< cross-entropy per target token (</s> included), no smoothing
  double perplexity = 0;      ///< exp(loss)
  double accuracy = 0;        ///< teacher-forced next-token accuracy
  int64_t count = 0;          ///< sentence pairs
  int64_t tokens = 0;         ///< target tokens (</s> included)
  bool decoded = false;       ///< the metrics below were computed
  BleuScore bleu, bleu_lowercase;
  double exact_match = 0;     ///< share of outputs equal to the reference, token for token
  std::vector<std::string> hypotheses;  ///< decoded text, in data order
  double seconds = 0, decode_seconds = 0;

  nlohmann::json to_json() const;
};

/// `references` are the raw target texts, in data order (for BLEU). With `decode` false only the
/// teacher-forced metrics are computed.
Seq2SeqEvalResult evaluate_seq2seq(Seq2Seq& model, const std::vector<EncodedPair>& data,
                                   const std::vector<std::string>& references, const TextCodec& target_codec,
                                   int64_t batch_size, const torch::Device& device, bool decode,
                                   const SearchOptions& search);

}  // namespace attn
