#include "attn/data/seq2seq/text_codec.h"

#include <stdexcept>
#include <unordered_map>

#include "attn/data/seq2seq/sentencepiece_model.h"
#include "attn/data/tokenizer.h"
#include "attn/core/utf8.h"
#include "attn/data/vocab.h"

namespace attn {

using nlohmann::json;

namespace {

const std::vector<std::string> kSpecials = {"<unk>", "<pad>", "<s>", "</s>"};

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

class WordCodec : public TextCodec {
 public:
  WordCodec(Tokenizer tok, Vocab vocab) : tok_(tok), vocab_(std::move(vocab)) {
    for (size_t i = 0; i < kSpecials.size(); ++i)
      if (vocab_.size() <= static_cast<int64_t>(i) || vocab_.token(static_cast<int64_t>(i)) != kSpecials[i])
        throw std::runtime_error("word codec: the vocabulary must start with <unk>, <pad>, <s>, </s>");
  }
  int64_t size() const override { return vocab_.size(); }
  std::vector<int64_t> encode(std::string_view text) const override { return vocab_.encode(tok_(text)); }
  std::string piece(int64_t id) const override { return id >= 0 && id < size() ? vocab_.token(id) : "<unk>"; }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string s;
    for (auto id : ids) {
      if (id < static_cast<int64_t>(kSpecials.size()) || id >= vocab_.size()) continue;
      if (!s.empty()) s += ' ';
      s += vocab_.token(id);
    }
    return s;
  }
  json to_json() const override {
    return {{"kind", "words"},
            {"tokenizer", tok_.kind == TokenizerKind::Words ? "words" : "whitespace"},
            {"lowercase", tok_.lowercase},
            {"tokens", vocab_.tokens()}};
  }
  std::string describe() const override { return "words (" + with_commas(size()) + " tokens)"; }

 private:
  Tokenizer tok_;
  Vocab vocab_;
};

class SentencePieceCodec : public TextCodec {
 public:
  SentencePieceCodec(std::string model_proto, std::string type, bool lowercase)
      : proto_(std::move(model_proto)), type_(std::move(type)), lowercase_(lowercase), sp_(proto_) {
    if (sp_.unk_id() != kUnk || sp_.pad_id() != kPad || sp_.bos_id() != kBos || sp_.eos_id() != kEos)
      throw std::runtime_error("sentencepiece model: special ids must be unk 0, pad 1, bos 2, eos 3");
  }
  int64_t size() const override { return sp_.size(); }
  std::vector<int64_t> encode(std::string_view text) const override {
    return lowercase_ ? sp_.encode(utf8_lower(text)) : sp_.encode(text);
  }
  std::string piece(int64_t id) const override {
    if (id >= 0 && id < static_cast<int64_t>(kSpecials.size())) return kSpecials[static_cast<size_t>(id)];
    return id < size() ? sp_.piece(static_cast<int>(id)) : "<unk>";
  }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::vector<int> keep;
    for (auto id : ids)
      if (id >= static_cast<int64_t>(kSpecials.size()) && id < size()) keep.push_back(static_cast<int>(id));
    return sp_.decode(keep);
  }
  json to_json() const override {
    return {{"kind", "sentencepiece"}, {"model_type", type_}, {"lowercase", lowercase_},
            {"model", base64_encode(proto_)}};
  }
  std::string describe() const override {
    return "sentencepiece " + type_ + " (" + with_commas(size()) + " pieces)";
  }

 private:
  std::string proto_, type_;
  bool lowercase_;
  SentencePieceModel sp_;
};

std::shared_ptr<TextCodec> train_sentencepiece(const DataConfig& data, const std::vector<std::string>& texts,
                                               int threads) {
  std::vector<std::string> lowered;
  if (data.lowercase) {
    lowered.reserve(texts.size());
    for (const auto& t : texts) lowered.push_back(utf8_lower(t));
  }
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", to_string(data.subword_model)},
      {"vocab_size", std::to_string(data.vocab_size)},
      // A smaller vocabulary than asked for when the text has too few distinct pieces.
      {"hard_vocab_limit", "false"},
      {"character_coverage", "1.0"},
      {"unk_id", "0"}, {"pad_id", "1"}, {"bos_id", "2"}, {"eos_id", "3"},
      {"num_threads", std::to_string(std::max(threads, 1))},
      {"minloglevel", "1"},
  };
  auto proto = SentencePieceModel::train(data.lowercase ? lowered : texts, args);
  return std::make_shared<SentencePieceCodec>(std::move(proto), to_string(data.subword_model), data.lowercase);
}

}  // namespace

std::shared_ptr<TextCodec> train_codec(const DataConfig& data, const std::vector<std::string>& texts,
                                       int threads) {
  if (data.tokenizer == Tokenization::SentencePiece) return train_sentencepiece(data, texts, threads);
  Tokenizer tok{word_tokenizer(data.tokenizer), data.lowercase};
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& t : texts)
    for (auto& token : tok(t)) ++counts[token];
  return std::make_shared<WordCodec>(tok, Vocab::build(counts, data.vocab_size, data.min_freq, kSpecials));
}

std::shared_ptr<TextCodec> codec_from_json(const json& j) {
  const auto kind = j.at("kind").get<std::string>();
  if (kind == "words") {
    Tokenizer tok{parse_tokenizer(j.at("tokenizer").get<std::string>()), j.at("lowercase").get<bool>()};
    return std::make_shared<WordCodec>(tok, Vocab::from_tokens(j.at("tokens").get<std::vector<std::string>>()));
  }
  if (kind == "sentencepiece")
    return std::make_shared<SentencePieceCodec>(base64_decode(j.at("model").get<std::string>()),
                                                j.at("model_type").get<std::string>(),
                                                j.at("lowercase").get<bool>());
  throw std::runtime_error("unknown text codec \"" + kind + "\"");
}

namespace {
const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw std::invalid_argument("base64: length is not a multiple of 4");
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') throw std::invalid_argument("base64: bad padding");
    uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = k >= 4 - pad ? 0 : value(text[i + static_cast<size_t>(k)]);
      if (v < 0) throw std::invalid_argument("base64: character outside the alphabet");
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    out += static_cast<char>((n >> 16) & 255);
    if (pad < 2) out += static_cast<char>((n >> 8) & 255);
    if (pad < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

}  // namespace attn
