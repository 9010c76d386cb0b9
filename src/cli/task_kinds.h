// The kinds of task attn trains, in one table: how a run trains each (its training Task), how a
// checkpoint of it becomes a model, and what the commands and benchmarks do with it (its
// TaskCommands). Adding a kind adds a row here and the kind's own files: its Task
// (train/*_task.cpp), its model and checkpoint loader (model/, infer/checkpoint_model.h) and its
// adapter (cli/*_commands.cpp). No other file branches on config.task.
#pragma once

#include "attn/infer/model_loader.h"
#include "attn/train/task_factory.h"
#include "cli/task_commands.h"

namespace attn {

struct TaskKindEntry {
  TaskFactory make_task;         ///< the training Task of a config of this kind
  ModelLoader load_model;        ///< a checkpoint's model, as a plain module
  const TaskCommands* commands;  ///< eval, predict, inspect, report, show, bench train|eval
};

/// The row of `kind`.
const TaskKindEntry& task_kind(TaskKind kind);

/// A factory that builds the Task of whatever kind the config names (a run's config is read
/// after its request is made), and a loader of whatever kind the checkpoint holds.
TaskFactory task_of_config();
ModelLoader model_of_checkpoint();

}  // namespace attn
