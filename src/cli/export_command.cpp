// `attn export RUN|CHECKPOINT [--format safetensors|pytorch] [--out FILE] [--force]`: the model's
// weights alone (no optimizer state), as safetensors or as a file Python's
// torch.load(..., weights_only=True) reads into a dict of tensors, and beside them FILE.json
// with what is needed to use them: the config, the vocabulary or the text codecs, the labels.
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "attn/core/atomic_file.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint_format.h"
#include "attn/io/checkpoint_reader.h"
#include "attn/io/safetensors.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_kinds.h"

namespace attn {

namespace fs = std::filesystem;

namespace {

// The model's parameters and buffers by their names (its state dict), on the CPU.
safetensors::Named state_of(torch::nn::Module& model) {
  safetensors::Named out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value().detach().cpu().contiguous());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value().detach().cpu().contiguous());
  return out;
}

// torch.save's zip layout (data.pkl and data/N), as torch::pickle_save writes it, but without its
// type tags on the dict (torch.jit._pickle.restore_type_tag), which torch.load(weights_only=True)
// refuses: Python reads a plain dict of tensors.
std::string pytorch_bytes(const safetensors::Named& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t);
  std::vector<char> pickled;
  torch::jit::Pickler pickler([&](const char* data, size_t size) { pickled.insert(pickled.end(), data, data + size); },
                              nullptr, nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(dict));
  pickler.stop();
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    out.append(static_cast<const char*>(data), size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  return out;
}

}  // namespace

int run_export(const ExportRequest& req) {
  CheckpointReader reader(resolve_checkpoint_path(req.target));
  const auto& header = reader.header();
  const safetensors::Named tensors = state_of(*model_of_checkpoint()(reader, "cpu"));
  const bool pytorch = req.format == "pytorch";
  std::string out = req.out;
  if (out.empty()) {
    std::error_code ec;
    const fs::path base = fs::is_directory(req.target, ec) ? fs::path(req.target) / "model"
                                                             : fs::path(req.target).replace_extension("");
    out = base.string() + (pytorch ? ".pt" : ".safetensors");
  }
  const std::string sidecar = fs::path(out).replace_extension(".json").string();
  for (const auto& path : {out, sidecar})
    if (!req.force && fs::exists(path))
      throw UsageError(path + " exists; attn export does not replace a file (remove it, give --out, or --force)");
  nlohmann::json about = checkpoint_format::header_json(header);
  about["export"] = {{"weights", fs::path(out).filename().string()}, {"format", req.format},
                     {"checkpoint", reader.path()}, {"tensors", tensors.size()}};
  write_file_atomically(out, pytorch ? pytorch_bytes(tensors)
                                     : safetensors::write(tensors, {{"format", "pt"}, {"attn_task", to_string(header.config.task)}}));
  write_file_atomically(sidecar, about.dump(2) + "\n");
  int64_t count = 0;
  for (const auto& [name, t] : tensors) count += t.numel();
  std::cout << out << "\n" << sidecar << "\n";
  std::cerr << "attn export: " << tensors.size() << " tensors, " << count << " values, from " << reader.path() << "\n";
  return 0;
}

void add_export_command(CommandLine& cli) {
  auto req = std::make_shared<ExportRequest>();
  auto* cmd = cli.app.add_subcommand("export", "A checkpoint's weights alone (no optimizer state) for other "
                                               "tools, with a JSON of what is needed to use them");
  cmd->add_option("checkpoint", req->target, "Run directory or .pt file")->required();
  cmd->add_option("--format", req->format, "safetensors, or pytorch: a file torch.load(f, "
                                           "weights_only=True) reads into a dict of tensors")
      ->capture_default_str()->check(CLI::IsMember({"safetensors", "pytorch"}));
  cmd->add_option("--out", req->out, "Weights file; the JSON goes beside it as NAME.json (default: "
                                     "RUN/model.safetensors or RUN/model.pt)");
  cmd->add_flag("--force", req->force, "Replace existing files");
  cli.add_trust_flag(cmd);
  cli.add(cmd, [req] { return run_export(*req); });
}

}  // namespace attn
