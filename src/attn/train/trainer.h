// `attn train`: a config-driven training run of the set classifier, with validation, metrics,
// checkpoints, exact resume, and a final test evaluation of the best checkpoint.
//
// A run directory holds config.json (the resolved config), run.json (what made the run),
// train.log, metrics.jsonl (one JSON record per log interval, validation and test),
// checkpoints/ (the last N step_*.pt and best.pt), and run.lock while a process runs it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/core/errors.h"
#include "attn/infer/model_loader.h"
#include "attn/train/task_factory.h"

namespace attn {

struct TrainRequest {
  std::string config_path;             ///< empty: the embedded default run
  std::vector<std::string> overrides;  ///< "key.path=value"
  std::string out_dir;                 ///< empty: runs/<config file stem>
  bool resume = false;                 ///< continue from the newest checkpoint in out_dir
  bool force = false;                  ///< move an existing out_dir aside (never deleted)
  /// The task kinds' table (cli/task_kinds.h): the training task of the run's config, and the
  /// model of a checkpoint (train.average_last).
  TaskFactory make_task;
  ModelLoader load_model;

  /// "attn train CONFIG --set k=v --out DIR --resume", as the user could type it again.
  std::string command() const;
};

struct TrainResult {
  std::string out_dir;
  std::string best_checkpoint;
  nlohmann::json best_valid;  ///< validation metrics of the best checkpoint
  nlohmann::json test;        ///< test metrics of the best checkpoint (null without a test split)
  nlohmann::json averaged_valid;  ///< train.average_last: validation metrics of checkpoints/averaged.pt
  nlohmann::json averaged_test;   ///< ... and its test metrics (null when off or without a test split)
  int64_t steps = 0;
  double seconds = 0;
  int interrupted = 0;        ///< SIGINT / SIGTERM stopped the run (after a checkpoint); 0 otherwise
  int rank = 0;               ///< this process's RANK in a multi-process run (only rank 0 reports)
};

/// With RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set (torchrun's variables, or attn launch),
/// one of several data-parallel processes (see distributed.h): DistEnvError for a bad environment,
/// DistributedError when the rendezvous or another rank fails.
/// Throws ConfigError / DataError / UsageError for bad input before anything is written, and
/// std::runtime_error (or c10::Error) for failures while running. SIGINT / SIGTERM while
/// training end the run after a checkpoint, with TrainResult::interrupted set.
TrainResult train(const TrainRequest& request);

}  // namespace attn
