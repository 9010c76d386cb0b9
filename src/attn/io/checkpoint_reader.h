// Reading a checkpoint back: every byte checked first (the CRC-32 trailer), then the header, and
// the weights, optimizer state and random generators on request. Format 4 is data only
// (safetensors.h): nothing in the file can run. Formats 1-3 are LibTorch TorchScript archives,
// whose reader compiles and runs the code stored in them: those open only once the user said to
// trust them (--trust-checkpoint), after the zip's own CRCs and a probe in a child process
// (legacy_check.h).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>

#include "attn/io/checkpoint.h"
#include "attn/io/safetensors.h"

namespace attn {

class CheckpointReader {
 public:
  /// Opens and checks the file; throws CheckpointError naming it.
  explicit CheckpointReader(const std::string& path);
  /// The same for a file's bytes already read (e.g. sent by another rank); `path` names it in errors.
  CheckpointReader(const std::string& path, std::string file_bytes);
  CheckpointReader(const CheckpointReader&) = delete;  // tensors_ points into bytes_
  CheckpointReader& operator=(const CheckpointReader&) = delete;
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
  void open_archive(bool checked);

  std::string path_;
  std::string bytes_;  // the file's bytes (checked, trailer removed), kept while tensors_ / archive_ read them
  std::optional<safetensors::View> tensors_;                  // format 4
  std::unique_ptr<torch::serialize::InputArchive> archive_;  // formats 1-3, trusted
  std::string optimizer_kind_;
  CheckpointHeader header_;
  std::string integrity_;
};

/// A checkpoint in the TorchScript archive format, refused because it was not trusted.
struct UntrustedCheckpoint : CheckpointError {
  using CheckpointError::CheckpointError;
};

/// Whether checkpoints in the TorchScript archive formats (1-3, written by attn before the
/// data-only format) may be opened: false unless the command line says --trust-checkpoint.
void trust_archive_checkpoints(bool trust);

/// The whole file; throws CheckpointError naming it when it is missing or unreadable.
std::string read_checkpoint_file(const std::string& path);

}  // namespace attn
