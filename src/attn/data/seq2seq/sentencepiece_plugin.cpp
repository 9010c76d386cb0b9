// The sentencepiece plugin: a thin C layer over Debian's libsentencepiece (see the header for
// why it is loaded apart from the rest of attn). Built as libattn_sentencepiece.so.
#include "attn/data/seq2seq/sentencepiece_plugin.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

struct attn_spm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

char* copy(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

class Sentences : public sentencepiece::SentenceIterator {
 public:
  Sentences(const char* const* s, const size_t* n, size_t count) : s_(s), n_(n), count_(count) { load(); }
  bool done() const override { return i_ >= count_; }
  void Next() override {
    ++i_;
    load();
  }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (i_ < count_) value_.assign(s_[i_], n_[i_]);
  }
  const char* const* s_;
  const size_t* n_;
  size_t count_, i_ = 0;
  std::string value_;
};

}  // namespace

extern "C" {

char* attn_spm_train(const char* const* sentences, const size_t* lengths, size_t count, const char* args,
                     char** model, size_t* model_len) {
  try {
    std::unordered_map<std::string, std::string> kwargs;
    std::istringstream in(args);
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) kwargs[line.substr(0, eq)] = line.substr(eq + 1);
    }
    Sentences it(sentences, lengths, count);
    std::string proto;
    const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, &proto);
    if (!status.ok()) return copy(status.ToString());
    *model = static_cast<char*>(std::malloc(proto.size() ? proto.size() : 1));
    std::memcpy(*model, proto.data(), proto.size());
    *model_len = proto.size();
    return nullptr;
  } catch (const std::exception& e) {
    return copy(e.what());
  }
}

char* attn_spm_load(const char* model, size_t model_len, attn_spm** out) {
  auto* spm = new attn_spm;
  const auto status = spm->processor.LoadFromSerializedProto(std::string(model, model_len));
  if (!status.ok()) {
    delete spm;
    return copy(status.ToString());
  }
  *out = spm;
  return nullptr;
}

void attn_spm_release(attn_spm* spm) { delete spm; }

int attn_spm_info(const attn_spm* spm, int* unk, int* pad, int* bos, int* eos) {
  *unk = spm->processor.unk_id(), *pad = spm->processor.pad_id();
  *bos = spm->processor.bos_id(), *eos = spm->processor.eos_id();
  return spm->processor.GetPieceSize();
}

char* attn_spm_encode(const attn_spm* spm, const char* text, size_t len, int** ids, size_t* count) {
  std::vector<int> out;
  const auto status = spm->processor.Encode(std::string_view(text, len), &out);
  if (!status.ok()) return copy(status.ToString());
  *ids = static_cast<int*>(std::malloc((out.size() ? out.size() : 1) * sizeof(int)));
  std::memcpy(*ids, out.data(), out.size() * sizeof(int));
  *count = out.size();
  return nullptr;
}

char* attn_spm_decode(const attn_spm* spm, const int* ids, size_t count, char** text, size_t* len) {
  std::string out;
  const auto status = spm->processor.Decode(std::vector<int>(ids, ids + count), &out);
  if (!status.ok()) return copy(status.ToString());
  *text = copy(out);
  *len = out.size();
  return nullptr;
}

char* attn_spm_piece(const attn_spm* spm, int id, char** piece, size_t* len) {
  if (id < 0 || id >= spm->processor.GetPieceSize()) return copy("no piece has id " + std::to_string(id));
  const std::string out = spm->processor.IdToPiece(id);
  *piece = copy(out);
  *len = out.size();
  return nullptr;
}

void attn_spm_free(void* p) { std::free(p); }

}  // extern "C"
