// What the commands that use a checkpoint (eval, predict, inspect, report, show) and the step
// benchmarks do for each kind of task: a command opens the checkpoint (or reads the config) and
// hands it to its task's adapter, so that no command branches on the task. The adapters are
// rows of the table of task kinds (cli/task_kinds.h).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attn/infer/attention_maps.h"
#include "cli/commands.h"

namespace attn {

class CheckpointReader;

/// `attn bench train|eval`: a model of the config's shape on random batches, what a training
/// step computes (its loss, for backward) and what evaluation computes.
struct BenchStep {
  std::function<torch::Tensor()> loss;
  std::function<torch::Tensor()> predict;
  std::shared_ptr<torch::nn::Module> module;
  int64_t vocab = 0, batch = 0, length = 0;  ///< the batch's shape (B, T), ids below vocab
  int64_t target_length = 0;                 ///< seq2seq's targets (B, T'); 0 for a classifier
};

class TaskCommands {
 public:
  virtual ~TaskCommands() = default;
  virtual int eval(const EvalRequest& request, CheckpointReader& checkpoint) const = 0;
  virtual int predict(const PredictRequest& request, CheckpointReader& checkpoint) const = 0;
  virtual int inspect(const InspectRequest& request, CheckpointReader& checkpoint) const = 0;
  /// attn report's part: {"split", "examples": [{"text", "reference" (label or translation),
  /// "output", "score" (probability, or sentence BLEU)}], "attention": attention_maps_json's
  /// document of the first request.inputs examples}; a classifier adds "metrics" (eval's JSON:
  /// per-class figures and the confusion matrix) of the whole split.
  virtual nlohmann::json report(const ReportRequest& request, CheckpointReader& checkpoint) const = 0;
  /// attn show: the prediction and the attention maps of each text, with `attention` in the
  /// places model.hard_in names, and the checkpoint's path.
  virtual std::vector<ShownInput> show(const ShowRequest& request, CheckpointReader& checkpoint,
                                       const std::vector<std::string>& texts, AttentionMode attention) const = 0;
  /// attn bench train|eval: the config's model on a random batch of its shape, on `device`.
  virtual BenchStep bench_step(const Config& config, const torch::Device& device) const = 0;
  /// Its outputs are sentences (translations, scored by BLEU), not labels: attn report's layout.
  virtual bool translates() const = 0;
};

/// Set to vector: the set classifier (classify_commands.cpp).
const TaskCommands& classify_commands();
/// Set to set: the encoder-decoder (seq2seq_commands.cpp).
const TaskCommands& seq2seq_commands();

/// The adapter of a config.task (cli/task_kinds.cpp).
const TaskCommands& commands_for(TaskKind task);

}  // namespace attn
