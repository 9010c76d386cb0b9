// Reading a checkpoint back: every byte checked before LibTorch's reader sees any (format 3's
// CRC-32; for older files the zip's own CRCs and a probe in a child process, legacy_check.h),
// then the header, and the weights, optimizer state and random generators on request.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/io/checkpoint.h"

namespace attn {

class CheckpointReader {
 public:
  /// Opens and checks the file; throws CheckpointError naming it.
  explicit CheckpointReader(const std::string& path);
  /// The same for a file's bytes already read (e.g. sent by another rank); `path` names it in errors.
  CheckpointReader(const std::string& path, std::string file_bytes);
  const std::string& path() const { return path_; }
  const CheckpointHeader& header() const { return header_; }
  /// "crc32 1a2b3c4d over 123456 bytes: ok", or "no checksum (format 2)" for older files.
  const std::string& integrity() const { return integrity_; }
  void load_model(torch::nn::Module& model);
  void load_optimizer(torch::optim::Optimizer& optimizer);
  /// Restores the CPU generator (and the CUDA ones, where saved and present), so dropout and
  /// shuffling continue as in an uninterrupted run.
  void restore_rng();

 private:
  std::string path_;
  std::string bytes_;  // the archive's bytes (checked, trailer removed), kept while archive_ reads them
  torch::serialize::InputArchive archive_;
  CheckpointHeader header_;
  std::string integrity_;
};

/// The whole file; throws CheckpointError naming it when it is missing or unreadable.
std::string read_checkpoint_file(const std::string& path);

}  // namespace attn
