// What attn wrote before its data-only checkpoints: a LibTorch TorchScript archive (formats 1-3;
// format 3 with the CRC trailer), for the tests of reading such files, which is allowed only
// when the user trusts them.
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>

#include "attn/io/checkpoint.h"
#include "attn/io/checkpoint_format.h"
#include "attn/io/checkpoint_reader.h"

namespace attn::test {

/// The bytes attn 0.x wrote for `header` (its format field decides the trailer: 3 has one).
inline std::string archive_checkpoint(const CheckpointHeader& header, torch::nn::Module& model,
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
  std::ostringstream bytes;
  archive.save_to(bytes);
  return header.format >= 3 ? checkpoint_format::with_checksum(bytes.str()) : bytes.str();
}

/// While it lives, archive checkpoints open (as with --trust-checkpoint).
struct TrustArchives {
  TrustArchives() { trust_archive_checkpoints(true); }
  ~TrustArchives() { trust_archive_checkpoints(false); }
};

}  // namespace attn::test
