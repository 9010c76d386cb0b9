// Set-to-set data end to end: generate or read the sentence pairs, train the source and target
// codecs on the training split (or take them from a checkpoint), encode every split, and drop
// over-long training pairs (counted). Torch-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/data/seq2seq/parallel_text.h"
#include "attn/data/seq2seq/text_codec.h"

namespace attn {

struct EncodedPair {
  std::vector<int64_t> source;  ///< without <s> and </s>
  std::vector<int64_t> target;  ///< without <s> and </s>
};

struct RawPairs {
  std::vector<TextPair> train, valid, test;
  int64_t skipped_empty = 0;  ///< pairs with an empty side, left out when reading
};

/// The splits as text: generated (sort, copy, reverse) or read (parallel files), the validation
/// split cut from the shuffled training pairs (data.valid_fraction) unless files are given.
RawPairs read_pair_splits(const DataConfig& data, uint64_t seed);

struct Seq2SeqData {
  std::shared_ptr<TextCodec> source_codec, target_codec;  ///< the same object when joint
  std::vector<EncodedPair> train, valid, test;
  std::vector<std::string> valid_references, test_references;  ///< target text, for BLEU
  int64_t dropped_train = 0;  ///< over data.max_len / data.max_target_len
  int64_t dropped_valid = 0;  ///< over data.valid_max_len
  int64_t skipped_empty = 0;
};

/// Encodes the splits; trains the codecs on the training split unless they are given.
Seq2SeqData prepare_seq2seq(const RawPairs& raw, const DataConfig& data,
                            std::shared_ptr<TextCodec> source_codec = nullptr,
                            std::shared_ptr<TextCodec> target_codec = nullptr, int threads = 1);

/// The codec config of a data section: built-in tasks always split numbers on whitespace.
DataConfig codec_config(const DataConfig& data);

}  // namespace attn
