// Text to tokens. `whitespace` is the notebook's: lower-case, split on whitespace. `words` also
// drops IMDB's "<br />" tags and splits punctuation off words ("great!" -> "great", "!").
// Torch-free, so that it compiles fast and can be fuzzed on its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attn/core/choices.h"

namespace attn {

enum class TokenizerKind { Whitespace, Words };

/// "whitespace" | "words" (the names of core/choices.h); anything else, "sentencepiece" included,
/// throws std::invalid_argument naming the value.
TokenizerKind parse_tokenizer(const std::string& name);

/// The word tokenizer of data.tokenizer; SentencePiece (a subword model, not a word tokenizer)
/// throws std::invalid_argument.
TokenizerKind word_tokenizer(Tokenization t);

struct Tokenizer {
  TokenizerKind kind = TokenizerKind::Whitespace;
  bool lowercase = true;  ///< ASCII lower-casing; other UTF-8 bytes are kept as they are
  /// 2: after each word from the second on, also the pair "previous_word" (a bigram), so that the
  /// set holds local word order; 1: words only.
  int ngrams = 1;
  std::vector<std::string> operator()(std::string_view text) const;
};

}  // namespace attn
