#include "attn/data/classify/set_tasks.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace attn {

namespace {

std::string join(const std::vector<std::string>& tokens) {
  std::string s;
  for (const auto& t : tokens) s += (s.empty() ? "" : " ") + t;
  return s;
}

int64_t uniform(std::mt19937_64& rng, int64_t n) {
  return std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
}

}  // namespace

std::vector<TextExample> make_majority(int64_t count, int64_t set_size, int64_t symbols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TextExample> out;
  std::vector<int64_t> counts(static_cast<size_t>(symbols));
  std::vector<std::string> tokens;
  while (static_cast<int64_t>(out.size()) < count) {
    std::fill(counts.begin(), counts.end(), 0);
    tokens.clear();
    for (int64_t i = 0; i < set_size; ++i) {
      const int64_t s = uniform(rng, symbols);
      ++counts[static_cast<size_t>(s)];
      tokens.push_back("s" + std::to_string(s));
    }
    const auto top = std::max_element(counts.begin(), counts.end());
    if (std::count(counts.begin(), counts.end(), *top) != 1) continue;  // a tie: draw again
    out.push_back({join(tokens), "s" + std::to_string(top - counts.begin()), "majority"});
  }
  return out;
}

std::vector<TextExample> make_retrieval(int64_t count, int64_t set_size, int64_t symbols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TextExample> out;
  std::vector<int64_t> keys(static_cast<size_t>(symbols));
  std::iota(keys.begin(), keys.end(), 0);
  const int64_t pairs = std::min(set_size, symbols);  // keys are distinct
  for (int64_t n = 0; n < count; ++n) {
    std::shuffle(keys.begin(), keys.end(), rng);
    std::vector<std::string> tokens;
    std::vector<int64_t> values;
    for (int64_t i = 0; i < pairs; ++i) {
      values.push_back(uniform(rng, symbols));
      tokens.push_back("k" + std::to_string(keys[i]) + ":v" + std::to_string(values.back()));
    }
    const int64_t q = uniform(rng, pairs);
    tokens.push_back("?k" + std::to_string(keys[q]));
    std::shuffle(tokens.begin(), tokens.end(), rng);  // a set: the query may stand anywhere
    out.push_back({join(tokens), "v" + std::to_string(values[q]), "retrieval"});
  }
  return out;
}

std::vector<TextExample> generate_examples(DataKind kind, int64_t count, int64_t set_size, int64_t symbols,
                                           uint64_t seed) {
  if (kind == DataKind::Majority) return make_majority(count, set_size, symbols, seed);
  if (kind == DataKind::Retrieval) return make_retrieval(count, set_size, symbols, seed);
  throw DataError("data.kind: \"" + to_string(kind) + "\" is not a built-in set task (majority, retrieval)");
}

}  // namespace attn
