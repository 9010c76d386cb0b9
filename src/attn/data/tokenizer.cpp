#include "attn/data/tokenizer.h"

#include <cctype>
#include <cstdint>
#include <stdexcept>

namespace attn {

TokenizerKind parse_tokenizer(const std::string& name) {
  if (name == "whitespace") return TokenizerKind::Whitespace;
  if (name == "words") return TokenizerKind::Words;
  throw std::invalid_argument("tokenizer must be \"whitespace\" or \"words\", got \"" + name + "\"");
}

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

bool valid_utf8(std::string_view s, size_t* offset) {
  size_t i = 0;
  auto fail = [&] {
    if (offset) *offset = i;
    return false;
  };
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return fail();
    if (i + n >= s.size()) return fail();  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return fail();
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail();
    i += n + 1;
  }
  return true;
}

}  // namespace attn
