// Text <-> token ids for set-to-set models, in two kinds that share the special ids
// <unk> = 0, <pad> = 1, <s> = 2 (begin), </s> = 3 (end):
//  - words: the trainer's tokenizers ("whitespace", "words") and a vocabulary of the most
//    frequent training tokens; decoding joins tokens with spaces.
//  - sentencepiece: a subword model (unigram or BPE) trained on the training text with
//    Debian's libsentencepiece; decoding restores the original spacing.
// A codec is saved as JSON inside checkpoints (the sentencepiece model as base64), so a
// checkpoint is self-contained. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attn/config/config.h"

namespace attn {

class TextCodec {
 public:
  static constexpr int64_t kUnk = 0, kPad = 1, kBos = 2, kEos = 3;
  virtual ~TextCodec() = default;
  virtual int64_t size() const = 0;
  /// Token ids of a text, without <s> and </s>; unknown tokens or characters are <unk>.
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  /// Text of token ids; the special ids are left out.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  /// One id as the model sees it, for pictures: a word, a sentencepiece piece ("\u2581Hund"), or
  /// "<unk>", "<pad>", "<s>", "</s>".
  virtual std::string piece(int64_t id) const = 0;
  /// The codec as saved in checkpoints; codec_from_json reads it back.
  virtual nlohmann::json to_json() const = 0;
  /// "words (8,004 tokens)" or "sentencepiece unigram (8,000 pieces)", for logs.
  virtual std::string describe() const = 0;
};

/// Trains the codec that `data` asks for (data.tokenizer: "whitespace" | "words" |
/// "sentencepiece", data.vocab_size, data.min_freq, data.subword_model, data.lowercase) on `texts`.
std::shared_ptr<TextCodec> train_codec(const DataConfig& data, const std::vector<std::string>& texts,
                                       int threads = 1);

/// A codec saved by to_json; a damaged one throws std::runtime_error.
std::shared_ptr<TextCodec> codec_from_json(const nlohmann::json& j);

/// Base64 (RFC 4648, with padding), for binary models inside JSON.
std::string base64_encode(std::string_view bytes);
/// Throws std::invalid_argument on a character outside the alphabet or a bad length.
std::string base64_decode(std::string_view text);

}  // namespace attn
