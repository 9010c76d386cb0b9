// Checkpoints: one .pt file (LibTorch's zip archive) holding the model weights, the optimizer
// state, the CPU random generator, and a JSON header with everything else a run needs: the
// resolved config, the vocabulary and labels, step / epoch / position in the data order, the best
// metric so far, and the format and library versions. Written to a temporary name, flushed to
// disk, then renamed, so that a crash never leaves a half-written file under a real name.
//
// Format 3 appends a trailer with the size and CRC-32 of everything before it, so that any
// damaged byte of a checkpoint is found before anything is read from it.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "attn/config/config.h"

namespace attn {

/// 2: adds the text codecs of seq2seq models. 3: the content carries a CRC-32 checksum.
/// Formats 1 and 2 (without checksums) still load.
constexpr int kCheckpointFormat = 3;

/// A file that is not a readable attn checkpoint (damaged, foreign, or from a newer attn).
struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainState {
  int64_t step = 0;        ///< optimizer steps taken
  int64_t epoch = 0;       ///< the epoch in progress
  int64_t batch = 0;       ///< the next batch of that epoch
  double best = 0;         ///< best validation value of train.metric so far
  int64_t best_step = -1;  ///< -1: no validation yet
  int64_t stale = 0;       ///< validations since the best (early stopping)
  int64_t skipped = 0;     ///< steps dropped for a non-finite loss or gradient (train.nonfinite "skip")
  int64_t world_size = 1;  ///< processes that trained the last step (a note: resuming needs no particular count)
};

struct CheckpointHeader {
  Config config;
  std::vector<std::string> vocab;
  std::vector<std::string> labels;
  nlohmann::json codecs;   ///< seq2seq: {"source": codec, "target": codec or null when joint}
  TrainState state;
  nlohmann::json metrics;  ///< the validation metrics at this step (may be null)
  std::string attn_version, torch_version;
  int format = kCheckpointFormat;
};

/// The bytes of a checkpoint file; `optimizer` may be null (a weights-only file).
std::string serialize_checkpoint(const CheckpointHeader& header, torch::nn::Module& model,
                                 torch::optim::Optimizer* optimizer);

/// serialize_checkpoint, written atomically to `path`.
void save_checkpoint(const std::string& path, const CheckpointHeader& header, torch::nn::Module& model,
                     torch::optim::Optimizer* optimizer);

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

/// checkpoints/step_00001234.pt
std::string step_checkpoint_name(int64_t step);

/// The step checkpoints in `dir`, newest first.
std::vector<std::string> list_step_checkpoints(const std::string& dir);

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync of the directory).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace attn
