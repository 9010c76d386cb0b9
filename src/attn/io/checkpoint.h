// Checkpoints: one .pt file holding the model weights, the optimizer state, the CPU random
// generator (as safetensors: data only, safetensors.h), and a JSON header, in the safetensors
// metadata under "attn", with everything else a run needs: the
// resolved config, the vocabulary and labels, step / epoch / position in the data order, the best
// metric so far, and the format and library versions. Written atomically
// (attn/core/atomic_file.h), so that a crash never leaves a half-written file under a real name;
// read back by CheckpointReader (checkpoint_reader.h).
//
// A trailer follows with the size and CRC-32 of everything before it (since format 3), so that
// any damaged byte of a checkpoint is found before anything is read from it. Tensor names:
// "model.<parameter or buffer>", "optimizer.<i>.<field>", "rng.cpu", "rng.cuda<N>". Python reads
// one with safetensors.torch.load(open(f, "rb").read()[:-20]) (the trailer is 20 bytes).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/core/errors.h"

namespace attn {

/// 2: adds the text codecs of seq2seq models. 3: the content carries a CRC-32 checksum.
/// 4: data only, safetensors (formats 1-3 are TorchScript archives, read only when trusted).
constexpr int kCheckpointFormat = 4;

struct TrainState {
  int64_t step = 0;        ///< optimizer steps taken
  int64_t epoch = 0;       ///< the epoch in progress
  int64_t batch = 0;       ///< the next batch of that epoch
  double best = 0;         ///< best validation value of train.metric so far
  int64_t best_step = -1;  ///< -1: no validation yet
  int64_t stale = 0;       ///< validations since the best (early stopping)
  int64_t skipped = 0;     ///< steps dropped for a non-finite loss or gradient (train.nonfinite "skip")
  int64_t world_size = 1;  ///< processes that trained the last step (a note: resuming needs no particular count)
  double beta = 0;         ///< the attention's inverse temperature at this step under a model.beta_schedule; 0 = none
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

/// checkpoints/step_00001234.pt
std::string step_checkpoint_name(int64_t step);

/// The step checkpoints in `dir`, newest first.
std::vector<std::string> list_step_checkpoints(const std::string& dir);

}  // namespace attn
