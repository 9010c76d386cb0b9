// The vocabulary: <unk> = 0 and <pad> = 1 as in the notebook, then the most frequent training
// tokens (ties broken by the token's bytes, so the result does not depend on input order).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace attn {

class Vocab {
 public:
  static constexpr int64_t kUnk = 0;
  static constexpr int64_t kPad = 1;

  Vocab();  ///< just <unk> and <pad>
  /// From token counts: at most `max_size` tokens (specials not counted) seen at least `min_freq` times.
  /// `extra_specials` follow <unk> and <pad> (set-to-set models add <s> and </s>).
  static Vocab build(const std::unordered_map<std::string, int64_t>& counts, int64_t max_size,
                     int64_t min_freq, const std::vector<std::string>& extra_specials = {});
  /// From a saved token list (as written by tokens()); the first two must be <unk> and <pad>.
  static Vocab from_tokens(std::vector<std::string> tokens);

  int64_t size() const { return static_cast<int64_t>(itos_.size()); }
  int64_t id(const std::string& token) const;  ///< kUnk for unknown tokens
  const std::string& token(int64_t id) const { return itos_.at(static_cast<size_t>(id)); }
  const std::vector<std::string>& tokens() const { return itos_; }
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;

 private:
  std::vector<std::string> itos_;
  std::unordered_map<std::string, int64_t> stoi_;
};

}  // namespace attn
