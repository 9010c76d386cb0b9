#include "attn/metrics/bleu.h"

#include "attn/core/utf8.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <unordered_map>

namespace attn {

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// mteval-v13a's punctuation class [\{-\~\[-\` -\&\(-\+\:-\@\/]: {|}~ [\]^_` space!"#$%& ()*+
// :;<=>?@ and /. Not in it: the apostrophe, comma, hyphen, period, digits and letters.
bool is_13a_punct(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// Python's str.isspace(), which str.split() splits on.
bool is_unicode_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python's str.split(): the non-empty runs between whitespace characters.
std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0, i = 0;
  bool in_word = false;
  while (i < s.size()) {
    size_t len;
    const bool space = is_unicode_space(utf8_decode(s, i, len));
    if (space && in_word) out.push_back(s.substr(start, i - start)), in_word = false;
    if (!space && !in_word) start = i, in_word = true;
    i += len;
  }
  if (in_word) out.push_back(s.substr(start));
  return out;
}

using NgramCounts = std::unordered_map<std::string, int64_t>;

// Every n-gram of order 1..4, keyed by its words joined with a byte no token contains.
NgramCounts count_ngrams(const std::vector<std::string_view>& words) {
  NgramCounts counts;
  for (size_t n = 1; n <= 4; ++n)
    for (size_t i = 0; i + n <= words.size(); ++i) {
      std::string key(1, static_cast<char>('0' + n));
      for (size_t k = i; k < i + n; ++k) key += '\x01', key += words[k];
      ++counts[key];
    }
  return counts;
}

}  // namespace

std::string tokenize_13a(std::string_view text) {
  std::string line(text);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  line = " " + line + " ";

  // The four regular expressions of mteval-v13a, each a left-to-right scan that, like re.sub,
  // resumes after the end of every match. The patterns only look at ASCII, so scanning bytes
  // gives the same result as scanning code points.
  std::string a;
  for (char c : line) {
    if (is_13a_punct(c)) a += ' ', a += c, a += ' ';      // ([{-~[-` -&(-+:-@/]) -> " \1 "
    else a += c;
  }
  auto scan = [](const std::string& s, auto&& match_at, auto&& emit) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (i + 1 < s.size() && match_at(s[i], s[i + 1])) emit(out, s[i], s[i + 1]), i += 2;
      else out += s[i++];
    }
    return out;
  };
  // ([^0-9])([\.,]) -> "\1 \2 ": a period or comma not preceded by a digit.
  std::string b = scan(a, [](char x, char y) { return !is_digit(x) && (y == '.' || y == ','); },
                       [](std::string& o, char x, char y) { o += x, o += ' ', o += y, o += ' '; });
  // ([\.,])([^0-9]) -> " \1 \2": a period or comma not followed by a digit.
  std::string c = scan(b, [](char x, char y) { return (x == '.' || x == ',') && !is_digit(y); },
                       [](std::string& o, char x, char y) { o += ' ', o += x, o += ' ', o += y; });
  // ([0-9])(-) -> "\1 \2 ": a hyphen after a digit.
  std::string d = scan(c, [](char x, char y) { return is_digit(x) && y == '-'; },
                       [](std::string& o, char x, char y) { o += x, o += ' ', o += y, o += ' '; });

  std::string out;
  for (auto w : split_words(d)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

void BleuAccumulator::add(std::string_view hypothesis, const std::vector<std::string_view>& references) {
  if (references.empty()) throw std::invalid_argument("BLEU: a hypothesis needs at least one reference");
  auto prepare = [&](std::string_view text) {
    // sacreBLEU: lower-case (with -lc), strip trailing whitespace, tokenize.
    std::string s = options_.lowercase ? utf8_lower(text) : std::string(text);
    while (!s.empty() && (s.back() == ' ' || (s.back() >= '\t' && s.back() <= '\r'))) s.pop_back();
    return options_.tokenize ? tokenize_13a(s) : s;
  };
  const std::string hyp = prepare(hypothesis);
  const auto hyp_words = split_words(hyp);
  const auto hyp_counts = count_ngrams(hyp_words);
  const auto hyp_len = static_cast<int64_t>(hyp_words.size());

  NgramCounts max_ref;  // the most times each n-gram occurs in one reference
  int64_t closest = -1;
  for (auto r : references) {
    const std::string ref = prepare(r);
    const auto words = split_words(ref);
    const auto len = static_cast<int64_t>(words.size());
    // The reference length closest to the hypothesis length; ties go to the shorter.
    if (closest < 0 || std::llabs(len - hyp_len) < std::llabs(closest - hyp_len) ||
        (std::llabs(len - hyp_len) == std::llabs(closest - hyp_len) && len < closest))
      closest = len;
    for (const auto& [gram, n] : count_ngrams(words)) max_ref[gram] = std::max(max_ref[gram], n);
  }
  for (const auto& [gram, n] : hyp_counts) {
    const size_t order = static_cast<size_t>(gram[0] - '1');
    total_[order] += n;
    if (auto it = max_ref.find(gram); it != max_ref.end()) correct_[order] += std::min(n, it->second);
  }
  hyp_len_ += hyp_len;
  ref_len_ += closest;
}

BleuScore BleuAccumulator::score() const {
  BleuScore s;
  s.correct = correct_, s.total = total_, s.hyp_len = hyp_len_, s.ref_len = ref_len_;
  s.brevity_penalty = hyp_len_ >= ref_len_ ? 1.0
                      : hyp_len_ > 0       ? std::exp(1.0 - double(ref_len_) / double(hyp_len_))
                                           : 0.0;
  if (correct_[0] + correct_[1] + correct_[2] + correct_[3] == 0) return s;  // no match at all
  double smooth = 1;
  for (size_t n = 0; n < 4; ++n) {
    if (total_[n] == 0) break;  // no n-grams of this order: the precision stays 0
    if (correct_[n] == 0) {
      if (options_.smooth) {
        smooth *= 2;
        s.precisions[n] = 100.0 / (smooth * double(total_[n]));
      }
    } else {
      s.precisions[n] = 100.0 * double(correct_[n]) / double(total_[n]);
    }
  }
  double log_sum = 0;
  for (double p : s.precisions) log_sum += p > 0 ? std::log(p) : -9999999999.0;  // sacreBLEU's my_log
  s.score = s.brevity_penalty * std::exp(log_sum / 4);
  return s;
}

std::string BleuScore::to_string() const {
  char buf[256];
  const double ratio = ref_len > 0 ? double(hyp_len) / double(ref_len) : 0.0;
  std::snprintf(buf, sizeof buf,
                "BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %lld ref_len = %lld)",
                score, precisions[0], precisions[1], precisions[2], precisions[3], brevity_penalty, ratio,
                static_cast<long long>(hyp_len), static_cast<long long>(ref_len));
  return buf;
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references, BleuOptions options) {
  for (size_t r = 0; r < references.size(); ++r)
    if (references[r].size() != hypotheses.size())
      throw std::invalid_argument("BLEU: " + std::to_string(hypotheses.size()) + " hypotheses but " +
                                  std::to_string(references[r].size()) + " lines in reference set " +
                                  std::to_string(r + 1));
  BleuAccumulator acc(options);
  std::vector<std::string_view> refs(references.size());
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    for (size_t r = 0; r < references.size(); ++r) refs[r] = references[r][i];
    acc.add(hypotheses[i], refs);
  }
  return acc.score();
}

}  // namespace attn
