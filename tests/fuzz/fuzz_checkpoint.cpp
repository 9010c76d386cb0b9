// The checkpoint reader: any bytes as a .pt file, opened as `attn eval` / `predict` / `--resume`
// open one (checksum, archive, header, then the weights into the model the header describes).
// Inputs without the format-3 checksum trailer go to LibTorch's own archive reader, which crashes
// on some damaged archives (a SEGV in torch::jit::ScriptTypeParser, found here; see README):
// they are fuzzed only with ATTN_FUZZ_LEGACY=1, so that a run measures attn's code.
#include "attn/infer/checkpoint_model.h"
#include "attn/train/checkpoint.h"
#include "fuzz_support.h"

#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool legacy = std::getenv("ATTN_FUZZ_LEGACY") != nullptr;
  if (!legacy && (size < 20 || std::memcmp(data + size - 20, "ATTN-CRC", 8) != 0)) return 0;
  const auto path = attn::fuzz::write_file("fuzz.pt", attn::fuzz::as_string(data, size));
  try {
    attn::CheckpointReader reader(path);
    if (reader.header().config.task == "seq2seq") (void)attn::load_seq2seq_checkpoint(reader, "cpu");
    else (void)attn::load_checkpoint_model(reader, "cpu");
  } catch (const attn::CheckpointError&) {
  }
  return 0;
}
