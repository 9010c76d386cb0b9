// Tensors as data: the safetensors layout (https://github.com/huggingface/safetensors), an
// 8-byte little-endian header size, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian bytes. Its reader parses JSON and copies bytes: nothing in a
// file can make it run code, which is why checkpoints use it (LibTorch's TorchScript archives
// compile and run the classes stored in them). Python's `safetensors.torch.load_file`, Rust's
// and JavaScript's readers load what this writes.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace attn::safetensors {

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

/// The file's bytes: `tensors` in the given order (each copied to the CPU, contiguous), and
/// `metadata` as the header's "__metadata__" (string to string, as the format requires).
std::string write(const Named& tensors, const std::map<std::string, std::string>& metadata);

/// A checked view of a file's bytes; the bytes must outlive it.
class View {
 public:
  /// Checks the header and every tensor's range (inside the data, no gaps or overlaps, the size
  /// its dtype and shape need); throws std::invalid_argument saying what is wrong.
  View(const char* data, size_t size);
  bool has(const std::string& name) const { return entries_.count(name) > 0; }
  /// A CPU tensor holding a copy of `name`'s bytes; std::out_of_range when there is none.
  torch::Tensor tensor(const std::string& name) const;
  std::vector<int64_t> shape(const std::string& name) const { return entries_.at(name).shape; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::vector<std::string> names() const;

 private:
  struct Entry {
    torch::ScalarType dtype;
    std::vector<int64_t> shape;
    size_t begin, end;  // within the data section
  };
  const char* data_ = nullptr;  // the data section
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace attn::safetensors
