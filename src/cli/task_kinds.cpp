#include "cli/task_kinds.h"

#include <stdexcept>

#include "attn/infer/checkpoint_model.h"
#include "attn/train/task.h"

namespace attn {

const TaskKindEntry& task_kind(TaskKind kind) {
  static const TaskKindEntry classify{
      make_classify_task,
      [](CheckpointReader& reader, const std::string& device) -> std::shared_ptr<torch::nn::Module> {
        return load_checkpoint_model(reader, device).model.ptr();
      },
      &classify_commands()};
  static const TaskKindEntry seq2seq{
      make_seq2seq_task,
      [](CheckpointReader& reader, const std::string& device) -> std::shared_ptr<torch::nn::Module> {
        return load_seq2seq_checkpoint(reader, device).model.ptr();
      },
      &seq2seq_commands()};
  switch (kind) {
    case TaskKind::Classify: return classify;
    case TaskKind::Seq2Seq: return seq2seq;
  }
  throw std::logic_error("task_kind: a TaskKind without a row");
}

const TaskCommands& commands_for(TaskKind task) { return *task_kind(task).commands; }

TaskFactory task_of_config() {
  return [](const Config& config, const torch::Device& device, const CheckpointHeader* resume, int threads) {
    return task_kind(config.task).make_task(config, device, resume, threads);
  };
}

ModelLoader model_of_checkpoint() {
  return [](CheckpointReader& reader, const std::string& device) {
    return task_kind(reader.header().config.task).load_model(reader, device);
  };
}

}  // namespace attn
