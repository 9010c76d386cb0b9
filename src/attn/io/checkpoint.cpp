#include "attn/io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "attn/core/atomic_file.h"
#include "attn/io/checkpoint_format.h"

namespace attn {

namespace fs = std::filesystem;

std::string serialize_checkpoint(const CheckpointHeader& header, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("header", c10::IValue(checkpoint_format::header_json(header).dump()));
  torch::serialize::OutputArchive weights;
  model.save(weights);
  archive.write("model", weights);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  archive.write("rng", torch::globalContext().defaultGenerator(torch::kCPU).get_state());
  // CUDA runs draw their dropout masks from the devices' generators (seed and offset: no sync).
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
    archive.write("rng_cuda" + std::to_string(i),
                  torch::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i)).get_state());
  std::ostringstream bytes;
  archive.save_to(bytes);
  return checkpoint_format::with_checksum(bytes.str());
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
