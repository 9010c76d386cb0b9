// Setting a run up, before anything is written: what to run (the config, and on --resume the
// checkpoint it continues), then the run itself (device, threads, the task's data and model,
// the optimizer, the step to start from). Rank 0 finds the config and the checkpoint and sends
// them to the other ranks, which need no access to the run directory.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/io/checkpoint_reader.h"
#include "attn/train/replicas.h"
#include "attn/train/run_lock.h"
#include "attn/train/run_record.h"
#include "attn/train/task.h"
#include "attn/train/trainer.h"

namespace attn {

struct RunPlan {
  Config config;
  std::unique_ptr<CheckpointReader> checkpoint;  ///< the checkpoint to resume; null for a new run
  std::string checkpoint_path;
  std::vector<std::string> changed;  ///< settings a resume changes, "train.lr (0.001 -> 0.0003)"
  std::unique_ptr<RunLock> lock;     ///< rank 0's hold on the run directory, for the whole run
  RunRecord record;                  ///< what made the run, this command included
};

/// Locks `out` (RunLock), then finds the config (file, default or the checkpoint's, with the
/// run's own overrides from run.json and then the new ones) and, on --resume, the newest
/// checkpoint in `out` that reads (a damaged one is passed over with a warning, never deleted;
/// none at all: the run starts again from step 0 in the same directory). Refuses a new run in
/// an existing directory without --force, and --resume of a directory that is not a run.
/// Throws ConfigError / UsageError / CheckpointError.
RunPlan plan_run(const TrainRequest& request, const std::string& out, Replicas& replicas);

struct Run {
  torch::Device device{torch::kCPU};
  int threads = 1;
  std::string precision = "fp32";  ///< what runs the large products (runtime's set_precision)
  std::unique_ptr<Task> task;
  std::vector<torch::Tensor> params;  ///< the parameters that train
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  TrainState state;            ///< where training continues (step 0 for a new run)
  int64_t written_by = 1;      ///< the world size of the checkpoint's run
};

/// Reads the data and builds the model and optimizer on every rank, restored from the plan's
/// checkpoint when there is one; then rank 0's weights everywhere.
Run build_run(const RunPlan& plan, const TaskFactory& make_task, Replicas& replicas);

}  // namespace attn
