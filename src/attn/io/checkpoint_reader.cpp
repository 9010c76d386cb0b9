#include "attn/io/checkpoint_reader.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "attn/io/checkpoint_format.h"
#include "attn/io/legacy_check.h"
#include "attn/io/optimizer_state.h"

namespace attn {

namespace fs = std::filesystem;
using namespace checkpoint_format;

namespace {

// Reads "a.b.c" from the archive nested as a -> b -> c (how Module::save writes submodules).
bool read_nested(torch::serialize::InputArchive& node, const std::string& name, torch::Tensor& out,
                 bool is_buffer) {
  const auto dot = name.find('.');
  if (dot == std::string::npos) return node.try_read(name, out, is_buffer);
  torch::serialize::InputArchive child;
  return node.try_read(name.substr(0, dot), child) &&
         read_nested(child, name.substr(dot + 1), out, is_buffer);
}

}  // namespace

std::string read_checkpoint_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw CheckpointError(path + ": no such checkpoint file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream all;
  all << in.rdbuf();
  if (!in && !in.eof()) throw CheckpointError(path + ": cannot read the file");
  return all.str();
}

CheckpointReader::CheckpointReader(const std::string& path)
    : CheckpointReader(path, read_checkpoint_file(path)) {}

CheckpointReader::CheckpointReader(const std::string& path, std::string file_bytes)
    : path_(path), bytes_(std::move(file_bytes)) {
  const std::string damaged = path + ": not a readable checkpoint (damaged, truncated or not ours)";
  bool checked = false;
  if (has_trailer(bytes_)) {  // format 3 and later: every byte before the trailer is checked
    const auto t = read_trailer(bytes_);
    const size_t size = bytes_.size() - kTrailerSize;
    const uint32_t crc = crc32_of(bytes_.data(), size);
    if (t.size != size || t.crc != crc)
      throw CheckpointError(path + ": damaged checkpoint (checksum mismatch: crc32 " + hex32(crc) + " over " +
                            std::to_string(size) + " bytes, the file says " + hex32(t.crc) + " over " +
                            std::to_string(t.size) + ")");
    bytes_.resize(size);
    integrity_ = "crc32 " + hex32(crc) + " over " + std::to_string(size) + " bytes: ok";
    checked = true;
  }
  if (!checked) {
    auto problem = legacy_check::zip_problem(bytes_);
    if (problem.empty()) problem = legacy_check::legacy_read_problem(bytes_);
    if (!problem.empty()) throw CheckpointError(damaged + ": " + problem);
  }
  try {
    // Onto the CPU whatever device wrote it: a checkpoint from a GPU run evaluates on a machine
    // without one; load_model and load_optimizer then copy to the model's device.
    archive_.load_from(bytes_.data(), bytes_.size(), torch::Device(torch::kCPU));
  } catch (const std::exception&) {  // c10::Error, and torch::jit::ErrorReport from a damaged archive
    throw CheckpointError(damaged);
  }
  c10::IValue text;
  try {
    if (!archive_.try_read("header", text) || !text.isString())
      throw CheckpointError(path + ": not an attn checkpoint (no header)");
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception&) {
    throw CheckpointError(damaged);
  }
  try {
    header_ = parse_header(nlohmann::json::parse(text.toStringRef()), path);  // NOLINT
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": damaged checkpoint header (" + e.what() + ")");
  }
  if (!checked) {
    if (header_.format >= 3)  // the trailer is gone: cut short, or its bytes damaged
      throw CheckpointError(path + ": damaged checkpoint (format " + std::to_string(header_.format) +
                            " without its checksum: truncated or overwritten at the end)");
    integrity_ = "no checksum (format " + std::to_string(header_.format) + ")";
  }
}

void CheckpointReader::load_model(torch::nn::Module& model) {
  // Module::load would silently resize a parameter of another shape (it uses Tensor::set_), so
  // every tensor is found, checked and copied here; the model keeps its storage and device.
  torch::serialize::InputArchive weights;
  bool found = false;
  try {
    found = archive_.try_read("model", weights);
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": damaged model weights");
  }
  if (!found) throw CheckpointError(path_ + ": holds no model weights");
  auto fill = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor saved;
    if (!read_nested(weights, name, saved, is_buffer))
      throw CheckpointError(path_ + ": its weights do not fit the model its config describes (no " + name + ")");
    if (saved.sizes() != target.sizes()) {
      std::ostringstream msg;
      msg << path_ << ": its weights do not fit the model its config describes (" << name << " is "
          << saved.sizes() << " in the file, " << target.sizes() << " in the model)";
      throw CheckpointError(msg.str());
    }
    torch::NoGradGuard no_grad;
    target.copy_(saved);
  };
  try {
    for (auto& p : model.named_parameters(/*recurse=*/true)) fill(p.key(), p.value(), false);
    for (auto& b : model.named_buffers(/*recurse=*/true)) fill(b.key(), b.value(), true);
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": damaged model weights");
  }
}

void CheckpointReader::load_optimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive opt;
  bool found = false;
  try {
    found = archive_.try_read("optimizer", opt);
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": damaged optimizer state");
  }
  if (!found)
    throw CheckpointError(path_ + ": holds no optimizer state (a weights-only file cannot resume)");
  try {
    optimizer.load(opt);
    move_state_to_parameters(optimizer);
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": its optimizer state does not fit this optimizer");
  }
}

void CheckpointReader::restore_rng() {
  auto restore = [&](const std::string& key, at::Generator generator) {  // a handle: shares state
    torch::Tensor state;
    bool found = false;
    try {
      found = archive_.try_read(key, state);
    } catch (const std::exception&) {
      throw CheckpointError(path_ + ": damaged random generator state");
    }
    if (!found) return;
    std::lock_guard<std::mutex> lock(generator.mutex());
    try {
      generator.set_state(state);
    } catch (const std::exception&) {
      throw CheckpointError(path_ + ": damaged random generator state");
    }
  };
  restore("rng", torch::globalContext().defaultGenerator(torch::kCPU));
  // The devices' generators where this machine has those devices (a GPU run resumed on the CPU
  // has no use for them).
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
    restore("rng_cuda" + std::to_string(i), torch::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i)));
}

}  // namespace attn
