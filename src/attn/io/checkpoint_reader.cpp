#include "attn/io/checkpoint_reader.h"

#include <atomic>
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

namespace {

std::atomic<bool> trusted_archives{false};

bool is_zip(const std::string& bytes) { return bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0; }

CheckpointHeader header_from(const std::string& text, const std::string& path) {
  try {
    return parse_header(nlohmann::json::parse(text), path);
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": damaged checkpoint header (" + e.what() + ")");
  }
}

}  // namespace

void trust_archive_checkpoints(bool trust) { trusted_archives = trust; }

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
  if (is_zip(bytes_)) {
    open_archive(checked);
    return;
  }
  try {
    tensors_.emplace(bytes_.data(), bytes_.size());
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(damaged + ": " + e.what());
  }
  const auto& meta = tensors_->metadata();
  const auto found = meta.find("attn");
  if (found == meta.end()) throw CheckpointError(path + ": not an attn checkpoint (no \"attn\" header in its metadata)");
  header_ = header_from(found->second, path);
  if (const auto kind = meta.find("attn.optimizer"); kind != meta.end()) optimizer_kind_ = kind->second;
  if (!checked)
    throw CheckpointError(path + ": damaged checkpoint (format " + std::to_string(header_.format) +
                          " without its checksum: truncated or overwritten at the end)");
}

// Formats 1-3: LibTorch's archive reader, which compiles the archive's code/ and runs its
// classes' __setstate__; only when trusted, and only after the checks that find damage.
void CheckpointReader::open_archive(bool checked) {
  const std::string damaged = path_ + ": not a readable checkpoint (damaged, truncated or not ours)";
  if (!checked) {  // attn's own reading of the zip's records: no code of the file's runs
    const auto problem = legacy_check::zip_problem(bytes_);
    if (!problem.empty()) throw CheckpointError(damaged + ": " + problem);
  }
  if (!trusted_archives)
    throw UntrustedCheckpoint(path_ + ": a checkpoint in the TorchScript archive format of older attn versions "
                          "(formats 1-3). Reading such a file runs code stored in it, so attn opens one only "
                          "when told to: add --trust-checkpoint if you made it or trust where it came from "
                          "(checkpoints attn writes now are data only; a run resumed this way writes those)");
  if (!checked) {  // LibTorch's reader in a child process first: it crashes on some damaged archives
    const auto problem = legacy_check::legacy_read_problem(bytes_);
    if (!problem.empty()) throw CheckpointError(damaged + ": " + problem);
  }
  archive_ = std::make_unique<torch::serialize::InputArchive>();
  try {
    // Onto the CPU whatever device wrote it: a checkpoint from a GPU run evaluates on a machine
    // without one; load_model and load_optimizer then copy to the model's device.
    archive_->load_from(bytes_.data(), bytes_.size(), torch::Device(torch::kCPU));
  } catch (const std::exception&) {  // c10::Error, and torch::jit::ErrorReport from a damaged archive
    throw CheckpointError(damaged);
  }
  c10::IValue text;
  try {
    if (!archive_->try_read("header", text) || !text.isString())
      throw CheckpointError(path_ + ": not an attn checkpoint (no header)");
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception&) {
    throw CheckpointError(damaged);
  }
  header_ = header_from(text.toStringRef(), path_);
  if (header_.format >= 4) throw CheckpointError(damaged + ": format " + std::to_string(header_.format) + " in an archive");
  if (!checked) {
    if (header_.format >= 3)  // the trailer is gone: cut short, or its bytes damaged
      throw CheckpointError(path_ + ": damaged checkpoint (format " + std::to_string(header_.format) +
                            " without its checksum: truncated or overwritten at the end)");
    integrity_ = "no checksum (format " + std::to_string(header_.format) + ")";
  }
}

void CheckpointReader::load_model(torch::nn::Module& model) {
  // Module::load would silently resize a parameter of another shape (it uses Tensor::set_), so
  // every tensor is found, checked and copied here; the model keeps its storage and device.
  torch::serialize::InputArchive weights;
  bool found = true;
  if (archive_) {
    try {
      found = archive_->try_read("model", weights);
    } catch (const std::exception&) {
      throw CheckpointError(path_ + ": damaged model weights");
    }
  }
  if (!found) throw CheckpointError(path_ + ": holds no model weights");
  auto fill = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor saved;
    if (tensors_ ? !tensors_->has("model." + name) : !read_nested(weights, name, saved, is_buffer))
      throw CheckpointError(path_ + ": its weights do not fit the model its config describes (no " + name + ")");
    if (tensors_) saved = tensors_->tensor("model." + name);
    if (saved.sizes() != target.sizes() || saved.scalar_type() != target.scalar_type()) {
      std::ostringstream msg;
      msg << path_ << ": its weights do not fit the model its config describes (" << name << " is "
          << saved.sizes() << " " << saved.scalar_type() << " in the file, " << target.sizes() << " "
          << target.scalar_type() << " in the model)";
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
  const std::string none = path_ + ": holds no optimizer state (a weights-only file cannot resume)";
  if (tensors_) {
    if (optimizer_kind_.empty()) throw CheckpointError(none);
    try {
      load_optimizer_state(optimizer, optimizer_kind_, *tensors_);
    } catch (const std::exception& e) {
      throw CheckpointError(path_ + ": its optimizer state does not fit this optimizer (" + e.what() + ")");
    }
    return;
  }
  torch::serialize::InputArchive opt;
  bool found = false;
  try {
    found = archive_->try_read("optimizer", opt);
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": damaged optimizer state");
  }
  if (!found) throw CheckpointError(none);
  try {
    optimizer.load(opt);
    move_state_to_parameters(optimizer);
  } catch (const std::exception&) {
    throw CheckpointError(path_ + ": its optimizer state does not fit this optimizer");
  }
}

void CheckpointReader::restore_rng() {
  auto restore = [&](const std::string& key, const std::string& legacy_key, at::Generator generator) {  // a handle
    torch::Tensor state;
    try {
      if (tensors_) {
        if (!tensors_->has(key)) return;
        state = tensors_->tensor(key);
      } else if (!archive_->try_read(legacy_key, state)) {
        return;
      }
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(state);
    } catch (const std::exception&) {
      throw CheckpointError(path_ + ": damaged random generator state");
    }
  };
  restore("rng.cpu", "rng", torch::globalContext().defaultGenerator(torch::kCPU));
  // The devices' generators where this machine has those devices (a GPU run resumed on the CPU
  // has no use for them).
  for (int64_t i = 0; i < static_cast<int64_t>(torch::cuda::device_count()); ++i)
    restore("rng.cuda" + std::to_string(i), "rng_cuda" + std::to_string(i),
            torch::globalContext().defaultGenerator(torch::Device(torch::kCUDA, i)));
}

}  // namespace attn
