// BLEU as sacreBLEU computes it by default (13a tokenization, exp smoothing, case-sensitive),
// checked on cases worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "attn/metrics/bleu.h"
#include "attn/core/utf8.h"

using namespace attn;

TEST_CASE("13a tokenization splits punctuation as mteval-v13a does", "[bleu]") {
  // '$' is in the punctuation class; the period and comma inside 3.50 stay (digits on both
  // sides); the comma after 50 is split (followed by a space); "3-4": a hyphen after a digit.
  CHECK(tokenize_13a("It costs $3.50, or 3-4 euros.") == "It costs $ 3.50 , or 3 - 4 euros .");
  // The apostrophe and a hyphen between letters are not split.
  CHECK(tokenize_13a("Don't re-use it!") == "Don't re-use it !");
  // Abbreviations: each period follows a letter.
  CHECK(tokenize_13a("U.S.A.") == "U . S . A .");
  // HTML entities are unescaped first; <skipped> is dropped.
  CHECK(tokenize_13a("&quot;Yes&quot; &amp; <skipped>no") == "\" Yes \" & no");
  // Runs of whitespace (including Unicode spaces, as Python's str.split) become one space.
  CHECK(tokenize_13a("  a\t b\xC2\xA0" "c  ") == "a b c");
  // Non-ASCII letters are not punctuation; brackets and slashes are.
  CHECK(tokenize_13a("Müller (Köln/Bonn)") == "Müller ( Köln / Bonn )");
  CHECK(tokenize_13a("") == "");
}

TEST_CASE("utf8_lower lower-cases Latin, Greek and Cyrillic letters as Python does", "[bleu]") {
  CHECK(utf8_lower("ÄÖÜ Straße ÉCOLE") == "äöü straße école");
  CHECK(utf8_lower("ŁÓDŹ ΑΘΗΝΑ МОСКВА Ÿ") == "łódź αθηνα москва ÿ");
  CHECK(utf8_lower("x\xFFy") == "x\xFFy");  // an invalid byte is kept
}

TEST_CASE("BLEU of identical texts is 100", "[bleu]") {
  auto s = corpus_bleu({"The cat sat on the mat.", "A dog barks loudly at night."},
                       {{"The cat sat on the mat.", "A dog barks loudly at night."}});
  CHECK(s.score == Approx(100.0));
  CHECK(s.brevity_penalty == 1.0);
  CHECK(s.hyp_len == 14);  // "The cat sat on the mat ." and "A dog barks loudly at night ."
  CHECK(s.ref_len == 14);
}

TEST_CASE("BLEU without smoothing is 0 when no 4-gram is shared, and exp smoothing matches a hand computation", "[bleu]") {
  // hyp: the cat sat on a mat / ref: the cat sat in a mat
  //   1-grams 5/6 (all but "on"), 2-grams 3/5 (the cat, cat sat, a mat),
  //   3-grams 1/4 (the cat sat), 4-grams 0/3. Lengths equal: BP = 1.
  const std::vector<std::string> hyp = {"the cat sat on a mat"};
  const std::vector<std::vector<std::string>> ref = {{"the cat sat in a mat"}};
  auto none = corpus_bleu(hyp, ref, BleuOptions{false, /*smooth=*/false});
  CHECK(none.score == 0.0);
  CHECK(none.correct == std::array<int64_t, 4>{5, 3, 1, 0});
  CHECK(none.total == std::array<int64_t, 4>{6, 5, 4, 3});
  // exp smoothing: the first order without a match counts 1 / (2 * 3).
  //   BLEU = (5/6 * 3/5 * 1/4 * 1/6)^(1/4) = (1/48)^(1/4) = 0.379918 -> 37.99
  auto exp = corpus_bleu(hyp, ref);
  CHECK(exp.precisions[3] == Approx(100.0 / 6));
  CHECK(exp.score == Approx(37.99178428257963).epsilon(1e-12));
  CHECK(exp.to_string() == "BLEU = 37.99 83.3/60.0/25.0/16.7 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
}

TEST_CASE("BLEU brevity penalty is exp(1 - r/c) for a short hypothesis", "[bleu]") {
  // hyp: the cat sat on the (5 tokens), ref: the cat sat on the mat (6): every n-gram of the
  // hypothesis matches, so BLEU = BP = exp(1 - 6/5) = 0.818731 -> 81.87.
  auto s = corpus_bleu({"the cat sat on the"}, {{"the cat sat on the mat"}});
  CHECK(s.brevity_penalty == Approx(std::exp(-0.2)));
  CHECK(s.score == Approx(81.87307530779819).epsilon(1e-12));
  // A longer hypothesis has no penalty.
  CHECK(corpus_bleu({"the cat sat on the mat today"}, {{"the cat sat on the mat"}}).brevity_penalty == 1.0);
}

TEST_CASE("Corpus BLEU pools n-gram counts over sentences (worked by hand)", "[bleu]") {
  // 1: hyp "the cat is on the mat" / ref "the cat sat on the mat"
  //    1-grams 5/6 (the x2, cat, on, mat), 2-grams 3/5 (the cat, on the, the mat),
  //    3-grams 1/4 (on the mat), 4-grams 0/3.
  // 2: hyp "a dog" / ref "a dog barks": 1-grams 2/2, 2-grams 1/1, no 3- or 4-grams.
  // Pooled: correct 7/4/1/0 of 8/6/4/3; hyp_len 8, ref_len 9; BP = exp(1 - 9/8) = 0.882497.
  // Smoothed 4-gram precision 1/(2*3). BLEU = 0.882497 * (7/8 * 4/6 * 1/4 * 1/6)^(1/4) = 34.845
  auto s = corpus_bleu({"the cat is on the mat", "a dog"}, {{"the cat sat on the mat", "a dog barks"}});
  CHECK(s.correct == std::array<int64_t, 4>{7, 4, 1, 0});
  CHECK(s.total == std::array<int64_t, 4>{8, 6, 4, 3});
  CHECK(s.hyp_len == 8);
  CHECK(s.ref_len == 9);
  CHECK(s.score == Approx(34.84492850954337).epsilon(1e-12));
}

TEST_CASE("BLEU clips n-gram matches by the reference count and uses the closest reference length", "[bleu]") {
  // hyp "the the the the" / ref "the cat": "the" matches once (clipped), 1-gram 1/4; no other
  // order matches -> exp smoothing 1/(2*3), 1/(4*2), 1/(8*1): BLEU = (1/4*1/6*1/8*1/8)^(1/4).
  auto s = corpus_bleu({"the the the the"}, {{"the cat"}});
  CHECK(s.correct == std::array<int64_t, 4>{1, 0, 0, 0});
  CHECK(s.score == Approx(100 * std::pow(1.0 / 4 * 1.0 / 6 * 1.0 / 8 * 1.0 / 8, 0.25)));
  // Two references of lengths 3 and 5 for a 4-token hypothesis: equally close, the shorter wins.
  BleuAccumulator acc;
  acc.add("a b c d", {"a b c", "a b c d e"});
  CHECK(acc.score().ref_len == 3);
  // n-gram counts are clipped by the most frequent occurrence in any one reference.
  BleuAccumulator two;
  two.add("x x y", {"x y", "x x"});
  CHECK(two.score().correct[0] == 3);
}

TEST_CASE("Lower-cased BLEU ignores case, and the default is case-sensitive", "[bleu]") {
  const std::vector<std::string> hyp = {"The Cat Sat On The Mat"};
  const std::vector<std::vector<std::string>> ref = {{"the cat sat on the mat"}};
  CHECK(corpus_bleu(hyp, ref).score == 0.0);  // no match at all: sacreBLEU returns 0
  CHECK(corpus_bleu(hyp, ref, BleuOptions{/*lowercase=*/true}).score == Approx(100.0));
}

TEST_CASE("BLEU refuses reference sets of another length", "[bleu]") {
  CHECK_THROWS_WITH(corpus_bleu({"a", "b"}, {{"a"}}),
                    Catch::Contains("2 hypotheses but 1 lines in reference set 1"));
}
