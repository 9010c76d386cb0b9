// A sentencepiece model, through attn's plugin (see sentencepiece_plugin.h for why sentencepiece
// is loaded apart). The plugin is found at $ATTN_SENTENCEPIECE_PLUGIN, else where the build put
// it, else next to the running program. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct attn_spm;

namespace attn {

class SentencePieceModel {
 public:
  /// Trains a model on `sentences` with sentencepiece's trainer flags; returns it serialized.
  static std::string train(const std::vector<std::string>& sentences,
                           const std::unordered_map<std::string, std::string>& flags);

  /// Loads a serialized model; throws std::runtime_error when it is not one.
  explicit SentencePieceModel(const std::string& serialized);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  int64_t size() const { return size_; }
  int unk_id() const { return unk_; }
  int pad_id() const { return pad_; }
  int bos_id() const { return bos_; }
  int eos_id() const { return eos_; }
  std::vector<int64_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int>& ids) const;
  /// The piece of one id as sentencepiece writes it ("\u2581Hund": a piece that starts a word).
  std::string piece(int id) const;

 private:
  attn_spm* spm_ = nullptr;
  int64_t size_ = 0;
  int unk_ = 0, pad_ = 0, bos_ = 0, eos_ = 0;
};

}  // namespace attn
