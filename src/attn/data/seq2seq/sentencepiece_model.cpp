#include "attn/data/seq2seq/sentencepiece_model.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "attn/data/seq2seq/sentencepiece_plugin.h"

namespace attn {

namespace {

struct Plugin {
  attn_spm_train_fn train;
  attn_spm_load_fn load;
  attn_spm_release_fn release;
  attn_spm_info_fn info;
  attn_spm_encode_fn encode;
  attn_spm_decode_fn decode;
  attn_spm_piece_fn piece;
  attn_spm_free_fn free;
};

std::vector<std::string> candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("ATTN_SENTENCEPIECE_PLUGIN")) out.push_back(env);
  // Beside the binary (the build tree: build/src), then where `cmake --install` puts it
  // (PREFIX/bin/attn, PREFIX/lib/attn/), then where this build wrote it.
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / "libattn_sentencepiece.so").string());
    out.push_back((exe.parent_path().parent_path() / "lib" / "attn" / "libattn_sentencepiece.so").string());
  }
#ifdef ATTN_SENTENCEPIECE_PLUGIN_PATH
  out.push_back(ATTN_SENTENCEPIECE_PLUGIN_PATH);
#endif
  return out;
}

const Plugin& plugin() {
  static std::once_flag once;
  static Plugin p;
  static std::string error;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& path : candidates()) {
      // DEEPBIND: sentencepiece binds to its own protobuf, not LibTorch's; LOCAL: its symbols
      // stay out of everyone else's way.
      void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!h) {
        tried += "\n  " + path + ": " + ::dlerror();
        continue;
      }
      auto sym = [&](const char* name) {
        void* f = ::dlsym(h, name);
        if (!f) throw std::runtime_error(path + ": no symbol " + name);
        return f;
      };
      p.train = reinterpret_cast<attn_spm_train_fn>(sym("attn_spm_train"));
      p.load = reinterpret_cast<attn_spm_load_fn>(sym("attn_spm_load"));
      p.release = reinterpret_cast<attn_spm_release_fn>(sym("attn_spm_release"));
      p.info = reinterpret_cast<attn_spm_info_fn>(sym("attn_spm_info"));
      p.encode = reinterpret_cast<attn_spm_encode_fn>(sym("attn_spm_encode"));
      p.decode = reinterpret_cast<attn_spm_decode_fn>(sym("attn_spm_decode"));
      p.piece = reinterpret_cast<attn_spm_piece_fn>(sym("attn_spm_piece"));
      p.free = reinterpret_cast<attn_spm_free_fn>(sym("attn_spm_free"));
      return;
    }
    error = "cannot load attn's sentencepiece plugin (libattn_sentencepiece.so; set ATTN_SENTENCEPIECE_PLUGIN "
            "to its path). Tried:" + tried;
  });
  if (!error.empty()) throw std::runtime_error(error);
  return p;
}

// Throws the plugin's error message, freeing it.
void check(char* error, const char* what) {
  if (!error) return;
  std::string msg = std::string(what) + ": " + error;
  plugin().free(error);
  throw std::runtime_error(msg);
}

}  // namespace

std::string SentencePieceModel::train(const std::vector<std::string>& sentences,
                                      const std::unordered_map<std::string, std::string>& flags) {
  const auto& p = plugin();
  std::vector<const char*> ptrs;
  std::vector<size_t> lengths;
  for (const auto& s : sentences) ptrs.push_back(s.data()), lengths.push_back(s.size());
  std::string args;
  for (const auto& [k, v] : flags) args += k + "=" + v + "\n";
  char* model = nullptr;
  size_t len = 0;
  check(p.train(ptrs.data(), lengths.data(), ptrs.size(), args.c_str(), &model, &len),
        "training the sentencepiece model failed");
  std::string out(model, len);
  p.free(model);
  return out;
}

SentencePieceModel::SentencePieceModel(const std::string& serialized) {
  check(plugin().load(serialized.data(), serialized.size(), &spm_), "sentencepiece model");
  size_ = plugin().info(spm_, &unk_, &pad_, &bos_, &eos_);
}

SentencePieceModel::~SentencePieceModel() {
  if (spm_) plugin().release(spm_);
}

std::vector<int64_t> SentencePieceModel::encode(std::string_view text) const {
  int* ids = nullptr;
  size_t n = 0;
  check(plugin().encode(spm_, text.data(), text.size(), &ids, &n), "sentencepiece");
  std::vector<int64_t> out(ids, ids + n);
  plugin().free(ids);
  return out;
}

std::string SentencePieceModel::decode(const std::vector<int>& ids) const {
  char* text = nullptr;
  size_t n = 0;
  check(plugin().decode(spm_, ids.data(), ids.size(), &text, &n), "sentencepiece");
  std::string out(text, n);
  plugin().free(text);
  return out;
}

std::string SentencePieceModel::piece(int id) const {
  char* text = nullptr;
  size_t n = 0;
  check(plugin().piece(spm_, id, &text, &n), "sentencepiece");
  std::string out(text, n);
  plugin().free(text);
  return out;
}

}  // namespace attn
