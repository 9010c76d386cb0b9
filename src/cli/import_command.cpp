// `attn import STATE_DICT.pt --config CONFIG --vocab VOCAB --labels A,B --out RUN`: a classifier
// trained elsewhere (the lecture notebook's `torch.save(model.state_dict(), f)`, or
// scripts/attn_torch.py's) becomes an attn run whose checkpoint eval, predict, show and export use.
//
// The file is read by attn/io/torch_state_dict.h, which builds dicts and tensors only (no class
// of the file's is looked up or run: what torch.load(weights_only=True) allows). Names are the
// notebook's or attn's: the notebook's `encoder.enc_layers.N` is attn's `encoder.layers.N`, and
// its feed-forward Linears (k1convL1, k1convL2: (F, D) weights) are attn's kernel-size-1
// convolutions ((F, D, 1)). Every tensor of the model must be there with its shape, and nothing
// else: a config that does not describe the file gets one error naming the first tensor that
// differs.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "attn/core/errors.h"
#include "attn/data/vocab.h"
#include "attn/io/checkpoint.h"
#include "attn/io/torch_state_dict.h"
#include "attn/model/build.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// The notebook's names and shapes as attn's.
std::map<std::string, torch::Tensor> as_attn_names(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : state) {
    std::string n = name;
    if (n.rfind("encoder.enc_layers.", 0) == 0) n = "encoder.layers." + n.substr(std::string("encoder.enc_layers.").size());
    const bool conv = n.find(".cnn.k1convL") != std::string::npos && n.size() > 7 && n.substr(n.size() - 7) == ".weight";
    out[n] = conv && t.dim() == 2 ? t.unsqueeze(-1) : t;                    // (F, D) -> (F, D, 1)
  }
  return out;
}

std::vector<std::string> read_vocab(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--vocab " + path + ": cannot open the file");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  if (tokens.size() < 2 || tokens[0] != "<unk>" || tokens[1] != "<pad>")
    throw DataError(path + ": a vocabulary is one token per line, the line number its id, starting with <unk> "
                    "and <pad> (the notebook's ids 0 and 1); this file starts with " +
                    (tokens.empty() ? std::string("nothing") : quote_value(tokens[0], 40)));
  return tokens;
}

std::vector<std::string> split_labels(const std::string& labels) {
  std::vector<std::string> out;
  std::stringstream s(labels);
  std::string label;
  while (std::getline(s, label, ',')) out.push_back(label);
  if (out.size() < 2) throw UsageError("--labels: at least two class names, comma-separated in the order of the "
                                       "model's outputs (e.g. --labels neg,pos), got " + quote_value(labels));
  return out;
}

}  // namespace

int run_import(const ImportRequest& req) {
  if (fs::exists(req.out))
    throw UsageError(req.out + " exists; attn import writes a new run directory (remove it or choose another --out)");
  Config config = load_config(req.config, req.overrides);
  if (config.task != TaskKind::Classify)
    throw UsageError("attn import: classifiers only for now (the config's task is \"" + to_string(config.task) + "\")");
  CheckpointHeader header;
  header.config = config;
  header.vocab = read_vocab(req.vocab);
  header.labels = split_labels(req.labels);
  header.attn_version = ATTN_VERSION;
  header.torch_version = TORCH_VERSION;
  auto model = build_classifier(config.model, static_cast<int64_t>(header.vocab.size()),
                                static_cast<int64_t>(header.labels.size()));
  auto state = as_attn_names(read_torch_state_dict(req.state_dict));
  const std::string hint = " (does " + req.config + " describe the model that was saved? model.d_model, heads, "
                           "ffn_hidden, layers, positions, pooling; the vocabulary's and the labels' sizes)";
  torch::NoGradGuard no_grad;
  size_t used = 0;
  auto take = [&](const std::string& name, torch::Tensor& target) {
    auto it = state.find(name);
    if (it == state.end()) throw CheckpointError(req.state_dict + ": no tensor " + name + hint);
    if (it->second.sizes() != target.sizes())
      throw CheckpointError(req.state_dict + ": " + name + " is " + shape_of(it->second) + ", the model's is " +
                            shape_of(target) + hint);
    target.copy_(it->second);
    ++used;
  };
  for (auto& p : model->named_parameters()) take(p.key(), p.value());
  for (auto& b : model->named_buffers()) take(b.key(), b.value());
  if (used != state.size()) {
    std::string extra;
    for (const auto& [name, t] : state)
      if (!model->named_parameters().contains(name) && !model->named_buffers().contains(name)) extra += " " + name;
    throw CheckpointError(req.state_dict + ": tensors the model does not have:" + extra.substr(0, 300) + hint);
  }
  model->eval();
  fs::create_directories(fs::path(req.out) / "checkpoints");
  std::ofstream(fs::path(req.out) / "config.json") << to_json(config).dump(2) << "\n";
  const auto path = (fs::path(req.out) / "checkpoints" / "best.pt").string();
  save_checkpoint(path, header, *model, nullptr);
  std::cout << path << "\n";
  std::cerr << "attn import: " << used << " tensors from " << req.state_dict << " into " << path << " ("
            << header.vocab.size() << " tokens, labels " << req.labels << ")\n";
  return 0;
}

void add_import_command(CommandLine& cli) {
  auto req = std::make_shared<ImportRequest>();
  auto* cmd = cli.app.add_subcommand("import", "A classifier saved by PyTorch (torch.save(model.state_dict(), f), "
                                               "the notebook's names or attn's) as a new run");
  cmd->add_option("state_dict", req->state_dict, "The .pt file torch.save wrote")->required()->check(CLI::ExistingFile);
  cmd->add_option("--config", req->config, "Config that describes the saved model (model.*; data.* "
                                           "for how eval and predict read text)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", req->overrides, "Override a config key: key.path=value (repeatable)");
  cmd->add_option("--vocab", req->vocab, "Vocabulary: one token per line, the line number its id, "
                                         "<unk> and <pad> first")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--labels", req->labels, "Class names in the order of the model's outputs, "
                                           "comma-separated (e.g. neg,pos)")->required();
  cmd->add_option("--out", req->out, "The new run directory")->required();
  cli.add(cmd, [req] { return run_import(*req); });
}

}  // namespace attn
