// Translation with a trained Seq2Seq: greedy and beam search over a batch of source sets.
// Decoding is incremental by default: each decoder layer caches its self-attention keys and
// values and the encoder's cross-attention keys and values, so a step costs one token's work;
// <pad> and <s> are never produced; <unk> may be. `use_cache = false` recomputes the whole prefix at every step (the reference in tests and the
// baseline of the benchmark).
//
// Shapes: B sentences, S source length, K beam size, V target vocabulary.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "attn/config/config.h"
#include "attn/model/seq2seq.h"

namespace attn {

struct SearchOptions {
  int64_t beam_size = 1;        ///< 1 = greedy
  double length_penalty = 1.0;  ///< a finished hypothesis scores log p / length^length_penalty
  double max_len_a = 1.5;       ///< at most a * source length + b tokens, </s> included
  int64_t max_len_b = 10;
  int64_t max_len_cap = 0;      ///< a further cap on the output length (e.g. the position table); 0 = none
  bool use_cache = true;
};

struct Hypothesis {
  std::vector<int64_t> tokens;  ///< without <s> and </s>
  double score = 0;             ///< sum of log-probabilities, </s> included
};

/// The search a config's decode section describes, with another beam size.
SearchOptions search_options(const Config& config, int64_t beam_size);

/// src (B, S) long on the model's device; src_padding (B, S) bool, true = padding (or undefined).
/// The model must be in eval mode. Returns the best hypothesis of each sentence, in order.
std::vector<Hypothesis> greedy_search(Seq2Seq& model, const torch::Tensor& src,
                                      const torch::Tensor& src_padding, const SearchOptions& options);

std::vector<Hypothesis> beam_search(Seq2Seq& model, const torch::Tensor& src,
                                    const torch::Tensor& src_padding, const SearchOptions& options);

/// greedy_search when beam_size is 1, else beam_search.
std::vector<Hypothesis> translate(Seq2Seq& model, const torch::Tensor& src, const torch::Tensor& src_padding,
                                  const SearchOptions& options);

}  // namespace attn
