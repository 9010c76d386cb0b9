#include "attn/data/vocab.h"

#include <algorithm>
#include <stdexcept>

namespace attn {

Vocab::Vocab() : itos_{"<unk>", "<pad>"}, stoi_{{"<unk>", kUnk}, {"<pad>", kPad}} {}

Vocab Vocab::build(const std::unordered_map<std::string, int64_t>& counts, int64_t max_size,
                   int64_t min_freq, const std::vector<std::string>& extra_specials) {
  Vocab v;
  for (const auto& s : extra_specials)
    if (v.stoi_.emplace(s, v.size()).second) v.itos_.push_back(s);
  std::vector<std::pair<std::string, int64_t>> items;
  for (const auto& [tok, n] : counts)
    if (n >= min_freq && !v.stoi_.count(tok)) items.emplace_back(tok, n);
  auto more_frequent = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  const size_t keep = std::min(items.size(), static_cast<size_t>(std::max<int64_t>(max_size, 0)));
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(keep), items.end(),
                    more_frequent);
  for (size_t i = 0; i < keep; ++i) {
    v.stoi_.emplace(items[i].first, v.size());
    v.itos_.push_back(std::move(items[i].first));
  }
  return v;
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens) {
  if (tokens.size() < 2 || tokens[0] != "<unk>" || tokens[1] != "<pad>")
    throw std::invalid_argument("vocabulary must start with <unk>, <pad>");
  Vocab v;
  v.itos_ = std::move(tokens);
  v.stoi_.clear();
  for (size_t i = 0; i < v.itos_.size(); ++i)
    if (!v.stoi_.emplace(v.itos_[i], static_cast<int64_t>(i)).second)
      throw std::invalid_argument("vocabulary lists \"" + v.itos_[i] + "\" twice");
  return v;
}

int64_t Vocab::id(const std::string& token) const {
  auto it = stoi_.find(token);
  return it == stoi_.end() ? kUnk : it->second;
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(id(t));
  return ids;
}

}  // namespace attn
