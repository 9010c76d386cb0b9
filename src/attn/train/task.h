// What the trainer trains: a model with its data and its metrics. The set classifier (set to
// vector) and the encoder-decoder (set to set) share one training loop, one checkpoint format
// and one command line through this interface.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/infer/attention_maps.h"
#include "attn/io/checkpoint.h"
#include "attn/train/task_factory.h"

namespace attn {

/// One batch's part of a training step.
struct BatchLoss {
  torch::Tensor loss;   ///< mean over the batch's units, for backward
  double loss_sum = 0;  ///< summed over units (progress line)
  double correct = 0;   ///< units predicted right
  double units = 0;     ///< examples (classify) or target tokens (seq2seq)
};

enum class Split { Valid, Test };

class Task {
 public:
  virtual ~Task() = default;
  virtual torch::nn::Module& model() = 0;
  /// Log lines about the data and the model.
  virtual std::vector<std::string> describe() = 0;
  /// The training batches of an epoch (example indices); depends only on (seed, epoch).
  virtual std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) const = 0;
  /// How many units (see BatchLoss) a batch holds, to weigh batches of an accumulated step.
  virtual double units(const std::vector<size_t>& batch) const = 0;
  /// Forward pass and loss of a training batch (the model is in training mode).
  virtual BatchLoss forward(const std::vector<size_t>& batch) = 0;
  virtual bool has(Split split) const = 0;
  /// Metrics of a split, with at least "loss", "accuracy" and every value train.metric may name;
  /// `summary` receives a log line ("loss 0.31 | accuracy 0.88").
  virtual nlohmann::json evaluate(Split split, std::string& summary) = 0;
  /// The keys of evaluate()'s metrics that the run records in metrics.jsonl.
  virtual std::vector<std::string> metric_keys() const = 0;
  /// What a checkpoint needs besides the weights: vocabulary, labels or text codecs.
  virtual void fill_header(CheckpointHeader& header) const = 0;
  /// The model's attention on the first `n` validation examples (fewer when the split is
  /// smaller), as `attn show` records it; the caller puts the model in eval mode.
  virtual std::vector<ShownInput> attention_examples(size_t n) = 0;
};

/// Each kind's TaskFactory (task_factory.h) (classify_task.cpp, seq2seq_task.cpp); the table of kinds that chooses
/// between them is cli/task_kinds.h.
std::unique_ptr<Task> make_classify_task(const Config& config, const torch::Device& device,
                                         const CheckpointHeader* resume, int threads);
std::unique_ptr<Task> make_seq2seq_task(const Config& config, const torch::Device& device,
                                        const CheckpointHeader* resume, int threads);

}  // namespace attn
