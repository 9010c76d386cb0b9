// Helpers for the tests that drive the attn binary: a scratch directory with a small config,
// running a command, reading a checkpoint's weights.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "attn/data/seq2seq/text_codec.h"
#include "attn/model/build.h"
#include "attn/io/checkpoint_reader.h"
#include "remove_tree.h"

namespace attn::test {

using nlohmann::json;
namespace fs = std::filesystem;

struct Run {
  int rc;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch directory with a small, fast config (the majority task, a few seconds to train).
struct Sandbox {
  fs::path dir = fs::temp_directory_path() / ("attn_cli_" + std::to_string(::getpid()) + "_" +
                                              std::to_string(next()));
  std::string config;
  Sandbox() {
    fs::create_directories(dir);
    config = (dir / "small.json").string();
    std::ofstream(config) << R"({
      "data": {"kind": "majority", "set_size": 8, "symbols": 6, "train_size": 1200, "valid_size": 200,
               "test_size": 300},
      "model": {"d_model": 16, "heads": 2, "ffn_hidden": 32, "layers": 1, "pooling": "mean",
                "dropout": 0.1},
      "train": {"epochs": 3, "batch_size": 32, "log_every": 20},
      "threads": 1, "seed": 3})";
  }
  ~Sandbox() { remove_tree(dir.string()); }
  static int next() {
    static int n = 0;
    return n++;
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  // Runs `attn ARGS` in the sandbox; stdin from `input` when given. With `timeout_s`, a run
  // that takes longer is stopped (rc 124), so that a hang fails the test instead of CI.
  Run attn(const std::string& args, const std::string& input = "", int timeout_s = 0) const {
    const std::string limit = timeout_s > 0 ? "timeout -k 5 " + std::to_string(timeout_s) + " " : "";
    return shell(limit + "'" + ATTN_BINARY + "' " + args, input);
  }

  // Runs a shell command in the sandbox (another program reading what attn wrote).
  Run shell(const std::string& command, const std::string& input = "") const {
    const auto out = dir / "stdout.txt", err = dir / "stderr.txt", in = dir / "stdin.txt";
    std::ofstream(in, std::ios::binary) << input;
    const std::string cmd = "cd '" + dir.string() + "' && " + command + " <'" + in.string() + "' >'" + out.string() +
                            "' 2>'" + err.string() + "'";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }
};

// Sets (or, given nullptr, unsets) an environment variable for one scope: the binary a test
// runs inherits it; the value before is restored after.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> before;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) before = v;
    value ? setenv(name.c_str(), value, 1) : unsetenv(name.c_str());
  }
  ~ScopedEnv() { before ? setenv(name.c_str(), before->c_str(), 1) : unsetenv(name.c_str()); }
};

inline std::vector<json> read_jsonl_text(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

inline std::vector<json> read_jsonl(const fs::path& p) { return read_jsonl_text(slurp(p)); }

// Weights of a checkpoint, by parameter name.
inline std::map<std::string, torch::Tensor> weights(const std::string& path) {
  CheckpointReader reader(path);
  const auto& h = reader.header();
  std::shared_ptr<torch::nn::Module> model;
  if (h.config.task == attn::TaskKind::Seq2Seq) {
    auto src = codec_from_json(h.codecs["source"]);
    auto tgt = h.codecs["target"].is_null() ? src : codec_from_json(h.codecs["target"]);
    model = build_seq2seq(h.config.model, src->size(), tgt->size()).ptr();
  } else {
    model = build_classifier(h.config.model, static_cast<int64_t>(h.vocab.size()),
                             static_cast<int64_t>(h.labels.size()))
                .ptr();
  }
  reader.load_model(*model);
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model->named_parameters()) out[item.key()] = item.value();
  return out;
}

// Every parameter of two checkpoints equal, to the bit.
inline void check_same_weights(const std::string& a_path, const std::string& b_path) {
  auto a = weights(a_path), b = weights(b_path);
  REQUIRE(a.size() == b.size());
  for (const auto& [name, t] : a) {
    INFO(name);
    CHECK(torch::equal(t, b.at(name)));
  }
}


}  // namespace attn::test
