#include "attn/io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "attn/core/atomic_file.h"
#include "attn/io/checkpoint_format.h"
#include "attn/io/optimizer_state.h"
#include "attn/io/safetensors.h"

namespace attn {

namespace fs = std::filesystem;

std::string serialize_checkpoint(const CheckpointHeader& header, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer) {
  safetensors::Named tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) tensors.emplace_back("model." + p.key(), p.value());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) tensors.emplace_back("model." + b.key(), b.value());
  std::map<std::string, std::string> metadata{{"format", "pt"},  // what Hugging Face's readers expect of torch weights
                                              {"attn", checkpoint_format::header_json(header).dump()}};
  if (optimizer) {
    metadata["attn.optimizer"] = optimizer_state_tensors(*optimizer, tensors);
  }
  tensors.emplace_back("rng.cpu", torch::globalContext().defaultGenerator(torch::kCPU).get_state());
  // CUDA runs draw their dropout masks from the devices' generators (seed and offset: no sync).
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
    tensors.emplace_back("rng.cuda" + std::to_string(i),
                         torch::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i)).get_state());
  return checkpoint_format::with_checksum(safetensors::write(tensors, metadata));
}

void save_checkpoint(const std::string& path, const CheckpointHeader& header, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer) {
  write_file_atomically(path, serialize_checkpoint(header, model, optimizer));
}

std::string step_checkpoint_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%08lld.pt", static_cast<long long>(step));
  return name;
}

std::vector<std::string> list_step_checkpoints(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".pt") out.push_back(e.path().string());
  }
  std::sort(out.rbegin(), out.rend());  // zero-padded step numbers: newest first
  return out;
}

}  // namespace attn
