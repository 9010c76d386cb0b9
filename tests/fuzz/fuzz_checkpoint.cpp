// The checkpoint reader: any bytes as a .pt file, opened as `attn eval` / `predict` / `--resume`
// open one (checksum, archive, header, then the weights into the model the header describes).
// Format 4 is safetensors (its header parser and range checks are fuzzed here); zip archives
// take the legacy path, trusted as --trust-checkpoint does, so that it stays fuzzed: zip record
// CRCs, then LibTorch's reader in a forked child (it segfaults on some damaged archives, found here).
#include "attn/infer/checkpoint_model.h"
#include "attn/io/checkpoint_reader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attn::trust_archive_checkpoints(true);
  const auto path = attn::fuzz::write_file("fuzz.pt", attn::fuzz::as_string(data, size));
  try {
    attn::CheckpointReader reader(path);
    if (reader.header().config.task == attn::TaskKind::Seq2Seq) (void)attn::load_seq2seq_checkpoint(reader, "cpu");
    else (void)attn::load_checkpoint_model(reader, "cpu");
  } catch (const attn::CheckpointError&) {
  }
  return 0;
}
