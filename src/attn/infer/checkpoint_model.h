// A trained classifier loaded from a checkpoint for evaluation or prediction: the model its
// config describes, its weights, its vocabulary and labels.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/data/vocab.h"
#include "attn/model/set_classifier.h"
#include "attn/train/checkpoint.h"

namespace attn {

struct CheckpointModel {
  std::string path;
  CheckpointHeader header;
  Vocab vocab;
  SetClassifier model{nullptr};
  torch::Device device{torch::kCPU};
};

/// A run directory means its checkpoints/best.pt. The model is in eval mode on `device_name`
/// ("" = the checkpoint config's device).
CheckpointModel load_checkpoint_model(const std::string& run_dir_or_file, const std::string& device_name = "");

}  // namespace attn
