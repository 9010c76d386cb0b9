// attn import's reader of torch.save files (attn/io/torch_state_dict.h). Input: the pickle, put
// into a zip as torch.save lays it out (data.pkl), beside storages data/0 .. data/7 of 256 bytes
// each, so that the fuzzer works on the pickle rather than on the zip (fuzz_checkpoint covers
// LibTorch's zip reader). What is accepted must be tensors by name; a refusal is a CheckpointError.
#include <caffe2/serialize/inline_container.h>

#include "attn/core/errors.h"
#include "attn/io/torch_state_dict.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string zip;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* p, size_t n) {
      zip.append(static_cast<const char*>(p), n);
      return n;
    });
    writer.writeRecord("data.pkl", data, size);
    const std::string storage(256, '\x3f');
    for (int i = 0; i < 8; ++i) writer.writeRecord("data/" + std::to_string(i), storage.data(), storage.size());
    writer.writeEndOfFile();
  }
  const auto path = attn::fuzz::write_file("state_dict.pt", zip);
  try {
    for (const auto& [name, t] : attn::read_torch_state_dict(path))
      if (!t.defined()) __builtin_trap();
  } catch (const attn::CheckpointError&) {
  }
  return 0;
}
