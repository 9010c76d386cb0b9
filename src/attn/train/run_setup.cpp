#include "attn/train/run_setup.h"

#include <cstdio>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "attn/runtime/runtime.h"
#include "attn/train/optimizer.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The newest step checkpoint in `ckpt_dir` that reads; null when there is none at all.
std::unique_ptr<CheckpointReader> newest_readable(const std::string& out, const std::string& ckpt_dir,
                                                  std::string& path, std::string& bytes) {
  const auto found = list_step_checkpoints(ckpt_dir);
  if (found.empty()) return nullptr;
  std::string problems;
  for (const auto& p : found) {
    try {
      bytes = read_checkpoint_file(p);
      path = p;
      return std::make_unique<CheckpointReader>(p, bytes);
    } catch (const UntrustedCheckpoint&) {  // the older ones are no newer in format
      throw;
    } catch (const CheckpointError& e) {  // a disk error: writes are atomic
      std::fprintf(stderr, "[run] warning: %s; trying an older checkpoint\n", e.what());
      problems += std::string(problems.empty() ? "" : "; ") + e.what();
    }
  }
  throw CheckpointError(out + ": no checkpoint can be resumed: " + problems);
}

// What attn leaves in every run directory from its first moment on: run.lock (RunLock, taken
// before anything else is written, and left behind by a process killed before its end), then
// checkpoints/, train.log and run.json.
bool is_run_directory(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / "run.lock", ec) || fs::is_directory(fs::path(dir) / "checkpoints", ec) ||
         fs::exists(fs::path(dir) / "train.log", ec) || fs::exists(fs::path(dir) / "run.json", ec);
}

}  // namespace

RunPlan plan_run(const TrainRequest& req, const std::string& out, Replicas& replicas) {
  RunPlan plan;
  std::string bytes;  // the checkpoint's, for the other ranks
  replicas.on_every_rank("reading the config and the checkpoint to resume", [&] {
    if (!replicas.lead()) return;
    std::error_code ec;
    const bool exists = fs::exists(out, ec) && !fs::is_empty(out, ec);
    if (exists && !req.resume && !req.force)
      throw UsageError(out + ": the run directory exists; use --resume to continue it, --force to "
                       "move it aside, or --out for another directory");
    if (exists && req.resume && !is_run_directory(out))
      throw UsageError(out + ": not an attn run directory (no checkpoints/, train.log or run.json): --resume "
                       "continues a run attn made there; use --out for another directory to start a new run");
    plan.lock = std::make_unique<RunLock>(out, req.command());  // before anything is read or written
    // The run's own overrides come first, then this command's: a resume with the config file
    // continues the run that was made, not the file's defaults.
    const auto made = req.resume ? read_run_record(out) : std::nullopt;
    plan.record = made.value_or(RunRecord{req.config_path, {}, {}, ""});
    if (!req.config_path.empty()) plan.record.config_path = req.config_path;
    auto overrides = plan.record.overrides;
    overrides.insert(overrides.end(), req.overrides.begin(), req.overrides.end());
    plan.record.overrides = overrides;
    plan.record.commands.push_back(req.command());
    if (req.resume) plan.checkpoint = newest_readable(out, (fs::path(out) / "checkpoints").string(),
                                                      plan.checkpoint_path, bytes);
    if (plan.checkpoint) {
      plan.config = resume_config(plan.checkpoint->header().config, plan.checkpoint_path, req.config_path,
                                  req.config_path.empty() ? req.overrides : overrides, plan.changed);
    } else if (req.resume) {
      // Stopped before its first checkpoint: start it again, in its own directory, from the
      // run's own config.json when no config is given.
      const auto saved_config = (fs::path(out) / "config.json").string();
      if (req.config_path.empty() && !fs::exists(saved_config))
        throw UsageError(out +
                         ": nothing to resume (no checkpoints/step_*.pt, no config.json); drop --resume to start");
      plan.config = req.config_path.empty() ? load_config(saved_config, req.overrides)
                                            : resolve_config(req.config_path, overrides);
      std::fprintf(stderr, "[run] --resume: %s has no checkpoint yet; starting the run from step 0\n", out.c_str());
    } else {
      plan.config = resolve_config(req.config_path, req.overrides);
    }
  });
  if (replicas.several()) {
    const auto sent = json::parse(replicas.broadcast_bytes(
        replicas.lead()
            ? json{{"config", json::parse(to_json(plan.config).dump())}, {"resume_path", plan.checkpoint_path}}.dump()
            : "",
        "sending the config"));
    bytes = replicas.broadcast_bytes(bytes, "sending the checkpoint to resume");
    if (!replicas.lead()) {
      plan.config = config_from_json(ConfigJson::parse(sent.at("config").dump()));
      plan.checkpoint_path = sent.at("resume_path").get<std::string>();
      if (!bytes.empty()) plan.checkpoint = std::make_unique<CheckpointReader>(plan.checkpoint_path, std::move(bytes));
    }
  }
  return plan;
}

Run build_run(const RunPlan& plan, const TaskFactory& make_task, Replicas& replicas) {
  const Config& cfg = plan.config;
  Run run;
  replicas.on_every_rank("reading the data and building the model", [&] {
    run.device = select_device(cfg.device);
    if (replicas.several() && run.device.is_cuda())
      throw DistributedError("device \"" + to_string(cfg.device) + "\" with WORLD_SIZE=" +
                             std::to_string(replicas.world_size()) +
                             ": this build runs its collectives on Gloo (CPU tensors) and has no NCCL backend "
                             "(Debian's LibTorch is CPU only); use device cpu for a multi-process run");
    // threads 0: the host's cores shared among the processes on it
    const auto cores = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
    run.threads = set_threads(cfg.threads > 0 ? cfg.threads
                                              : std::max<int64_t>(1, cores / replicas.env().local_world_size));
    if (run.device.is_cuda() && cfg.precision == Precision::Bf16)  // not silently float32 there
      throw ConfigError("precision: \"bf16\" runs attn's CPU kernels (oneDNN, AMX); on device " + run.device.str() +
                        " use \"fp32\" (--set precision=fp32)");
    run.precision = set_precision(cfg.precision);
    torch::manual_seed(cfg.seed);
    const auto* resume = plan.checkpoint.get();
    run.task = make_task(cfg, run.device, resume ? &resume->header() : nullptr, run.threads);
    run.params = trainable_parameters(run.task->model());
    run.optimizer = make_optimizer(cfg.train, run.params);
    if (resume) {
      plan.checkpoint->load_model(run.task->model());
      plan.checkpoint->load_optimizer(*run.optimizer);
      plan.checkpoint->restore_rng();
      run.state = resume->header().state;
      // The best so far was measured with another metric: it is measured anew from the next
      // validation (a loss is not an accuracy).
      if (resume->header().config.train.metric != cfg.train.metric) run.state.best_step = -1, run.state.stale = 0;
    }
  });
  if (replicas.several()) {
    // Identical weights everywhere (as DistributedDataParallel does), and dropout streams of
    // their own on ranks other than 0.
    auto& model = run.task->model();
    std::vector<torch::Tensor> all;
    for (auto& p : model.parameters()) all.push_back(p.detach());
    for (auto& b : model.buffers()) all.push_back(b.detach());
    {
      torch::NoGradGuard no_grad;
      replicas.broadcast(all, "sending rank 0's parameters");
    }
    if (!replicas.lead())
      torch::manual_seed(cfg.seed + 1000003ull * static_cast<uint64_t>(replicas.rank()) +
                         static_cast<uint64_t>(run.state.step));
  }
  run.written_by = run.state.world_size;
  run.state.world_size = replicas.world_size();
  return run;
}

}  // namespace attn
