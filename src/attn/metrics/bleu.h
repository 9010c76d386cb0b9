// Corpus BLEU as sacreBLEU computes it by default: the 13a tokenizer (mteval-v13a), n-grams of
// order 1..4 clipped by the reference counts, the closest reference length for the brevity
// penalty, and "exp" smoothing (a precision with no match counts as 1 / (2^k * total)).
// Case-sensitive by default; `lowercase` is sacreBLEU's -lc.
//
// Torch-free: `attn bleu` and the tests use it without LibTorch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

/// sacreBLEU's "13a" tokenization of one line: the mteval-v13a rules (punctuation split off,
/// periods and commas kept inside numbers), tokens joined by single spaces.
std::string tokenize_13a(std::string_view line);

struct BleuOptions {
  bool lowercase = false;   ///< sacreBLEU -lc
  bool smooth = true;       ///< "exp" smoothing (sacreBLEU's default); false = "none"
  bool tokenize = true;     ///< 13a; false = the text is already tokenized (split on spaces)
};

struct BleuScore {
  double score = 0;                    ///< 0..100
  std::array<double, 4> precisions{};  ///< 0..100, after smoothing
  std::array<int64_t, 4> correct{}, total{};
  double brevity_penalty = 0;
  int64_t hyp_len = 0, ref_len = 0;
  /// "BLEU = 34.23 65.1/40.2/27.4/19.3 (BP = 0.987 ratio = 0.987 hyp_len = 123 ref_len = 125)"
  std::string to_string() const;
};

/// Statistics of a corpus, accumulated one sentence at a time.
class BleuAccumulator {
 public:
  explicit BleuAccumulator(BleuOptions options = {}) : options_(options) {}
  /// One hypothesis against one or more references.
  void add(std::string_view hypothesis, const std::vector<std::string_view>& references);
  BleuScore score() const;

 private:
  BleuOptions options_;
  std::array<int64_t, 4> correct_{}, total_{};
  int64_t hyp_len_ = 0, ref_len_ = 0;
};

/// Corpus BLEU of line-aligned hypotheses and references (references[r][i]: reference r of
/// sentence i). Throws std::invalid_argument when a reference set's size differs.
BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references, BleuOptions options = {});

}  // namespace attn
