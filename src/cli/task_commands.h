// What the commands that use a checkpoint (eval, predict, inspect) do for each kind of task: a
// command opens the checkpoint and hands it to its task's adapter, so that no command branches
// on the task.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "cli/commands.h"

namespace attn {

class CheckpointReader;

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
};

/// Set to vector: the set classifier (classify_commands.cpp).
const TaskCommands& classify_commands();
/// Set to set: the encoder-decoder (seq2seq_commands.cpp).
const TaskCommands& seq2seq_commands();

/// The adapter of a checkpoint's config.task.
inline const TaskCommands& commands_for(TaskKind task) {
  return task == TaskKind::Seq2Seq ? seq2seq_commands() : classify_commands();
}

}  // namespace attn
