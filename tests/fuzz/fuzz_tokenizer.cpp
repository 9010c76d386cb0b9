// The tokenizers (both kinds, with and without lower-casing and bigrams) and the UTF-8 helpers.
#include "attn/data/tokenizer.h"
#include "attn/core/utf8.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = attn::fuzz::as_string(data, size);
  for (auto kind : {attn::TokenizerKind::Whitespace, attn::TokenizerKind::Words})
    for (bool lower : {false, true})
      for (int ngrams : {1, 2}) {
        attn::Tokenizer t{kind, lower, ngrams};
        for (const auto& token : t(text))
          if (token.empty()) __builtin_trap();  // no empty tokens
      }
  size_t offset = 0;
  if (attn::valid_utf8(text, &offset)) {
    const auto lower = attn::utf8_lower(text);
    if (!attn::valid_utf8(lower)) __builtin_trap();  // lower-casing keeps UTF-8 valid
  } else if (offset >= size) {
    __builtin_trap();  // the bad sequence is inside the text
  }
  return 0;
}
