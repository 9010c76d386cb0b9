// A trained classifier loaded from a checkpoint for evaluation or prediction: the model its
// config describes, its weights, its vocabulary and labels.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "attn/data/seq2seq/text_codec.h"
#include "attn/data/vocab.h"
#include "attn/model/seq2seq.h"
#include "attn/model/set_classifier.h"
#include "attn/infer/model_loader.h"
#include "attn/io/checkpoint_reader.h"

namespace attn {

struct CheckpointModel {
  std::string path;
  CheckpointHeader header;
  Vocab vocab;
  SetClassifier model{nullptr};
  torch::Device device{torch::kCPU};
};

/// A trained encoder-decoder loaded from a checkpoint, with its text codecs.
struct CheckpointSeq2Seq {
  std::string path;
  CheckpointHeader header;
  std::shared_ptr<TextCodec> source_codec, target_codec;
  Seq2Seq model{nullptr};
  torch::Device device{torch::kCPU};
};

/// A run directory means its checkpoints/best.pt; a file is itself. Throws CheckpointError.
std::string resolve_checkpoint_path(const std::string& run_dir_or_file);

/// The seq2seq model of an opened checkpoint, in eval mode on `device_name` ("" = the config's
/// device). Callers open the file once (a CheckpointReader reads all of it) and dispatch on
/// reader.header().config.task.
CheckpointSeq2Seq load_seq2seq_checkpoint(CheckpointReader& reader, const std::string& device_name = "");

/// The classifier of an opened checkpoint, as load_seq2seq_checkpoint.
CheckpointModel load_checkpoint_model(CheckpointReader& reader, const std::string& device_name = "");

}  // namespace attn
