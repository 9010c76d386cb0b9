#include "attn/data/seq2seq/seq2seq_tasks.h"

#include <algorithm>
#include <random>

namespace attn {

namespace {

std::string join(const std::vector<int64_t>& xs) {
  std::string s;
  for (auto x : xs) s += (s.empty() ? "" : " ") + std::to_string(x);
  return s;
}

}  // namespace

bool is_seq2seq_task(DataKind kind) {
  return kind == DataKind::Sort || kind == DataKind::Copy || kind == DataKind::Reverse;
}

std::vector<TextPair> generate_pairs(DataKind kind, int64_t count, int64_t set_size, int64_t symbols,
                                     uint64_t seed) {
  if (!is_seq2seq_task(kind))
    throw DataError("data.kind: \"" + to_string(kind) + "\" is not a built-in set-to-set task (sort, copy, reverse)");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> length((set_size + 1) / 2, set_size), symbol(0, symbols - 1);
  std::vector<TextPair> out;
  out.reserve(static_cast<size_t>(count));
  for (int64_t n = 0; n < count; ++n) {
    std::vector<int64_t> xs(static_cast<size_t>(length(rng)));
    for (auto& x : xs) x = symbol(rng);
    auto ys = xs;
    if (kind == DataKind::Sort) std::sort(ys.begin(), ys.end());
    else if (kind == DataKind::Reverse) std::reverse(ys.begin(), ys.end());
    out.push_back({join(xs), join(ys), to_string(kind)});
  }
  return out;
}

}  // namespace attn
