#include "attn/data/tokenizer.h"

#include <cctype>
#include <cstdint>
#include <stdexcept>

namespace attn {

TokenizerKind word_tokenizer(Tokenization t) {
  if (t == Tokenization::Whitespace) return TokenizerKind::Whitespace;
  if (t == Tokenization::Words) return TokenizerKind::Words;
  throw std::invalid_argument("tokenizer \"" + to_string(t) + "\" is a subword model, not a word tokenizer");
}

TokenizerKind parse_tokenizer(const std::string& name) { return word_tokenizer(parse<Tokenization>(name)); }

namespace {

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
// Bytes of a word: ASCII letters and digits, the apostrophe inside words, and every non-ASCII
// byte (letters of other scripts arrive as UTF-8 sequences).
bool is_word(unsigned char c) { return std::isalnum(c) || c >= 0x80 || c == '\''; }
char lower(char c, bool on) { return on && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

}  // namespace

std::vector<std::string> Tokenizer::operator()(std::string_view text) const {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (kind == TokenizerKind::Whitespace) {
      if (is_space(c)) flush();
      else cur += lower(text[i], lowercase);
      continue;
    }
    // Words: "<br />" and "<br/>" are line breaks in IMDB reviews, not words.
    if (c == '<' && (text.compare(i, 6, "<br />") == 0 || text.compare(i, 5, "<br/>") == 0)) {
      flush();
      i += text.compare(i, 6, "<br />") == 0 ? 5 : 4;
    } else if (is_space(c)) {
      flush();
    } else if (is_word(c)) {
      cur += lower(text[i], lowercase);
    } else {
      flush();
      out.emplace_back(1, text[i]);  // punctuation is a token of its own
    }
  }
  flush();
  // A leading or trailing apostrophe is quoting, not part of the word.
  if (kind == TokenizerKind::Words)
    for (auto& t : out)
      if (t.size() > 1 && (t.front() == '\'' || t.back() == '\'')) {
        size_t b = t.find_first_not_of('\''), e = t.find_last_not_of('\'');
        t = b == std::string::npos ? std::string("'") : t.substr(b, e - b + 1);
      }
  if (ngrams < 2 || out.size() < 2) return out;
  // w1 w2 w1_w2 w3 w2_w3 ...: a prefix of the result (cut to max_len) keeps whole bigrams.
  std::vector<std::string> with_pairs;
  with_pairs.reserve(out.size() * 2);
  for (size_t i = 0; i < out.size(); ++i) {
    with_pairs.push_back(out[i]);
    if (i > 0) with_pairs.push_back(out[i - 1] + "_" + out[i]);
  }
  return with_pairs;
}

}  // namespace attn
