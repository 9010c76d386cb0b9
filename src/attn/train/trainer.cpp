#include "attn/train/trainer.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "attn/core/stopwatch.h"
#include "attn/draw/attention_figures.h"
#include "attn/infer/average.h"
#include "attn/model/build.h"
#include "attn/runtime/runtime.h"
#include "attn/train/beta_schedule.h"
#include "attn/train/checkpointer.h"
#include "attn/train/interrupt.h"
#include "attn/train/lr_schedule.h"
#include "attn/train/optimizer.h"
#include "attn/train/progress.h"
#include "attn/train/replicas.h"
#include "attn/train/run_directory.h"
#include "attn/train/run_setup.h"
#include "attn/train/schedule.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string default_out_dir(const std::string& config_path) {
  const std::string stem = config_path.empty() ? "default" : fs::path(config_path).stem().string();
  return (fs::path("runs") / stem).string();
}

// What a rank was asked to do; all ranks of a job must agree on it.
std::string request_fingerprint(const TrainRequest& req) {
  std::string all = req.config_path + "\n" + req.out_dir + "\n" + (req.resume ? "resume" : "") +
                    (req.force ? "force" : "");
  for (const auto& o : req.overrides) all += "\n" + o;
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016zx", std::hash<std::string>{}(all));
  return hex;
}

// The name of the first parameter whose gradient holds an inf or a NaN, quoted with "the
// gradient of"; empty when all are finite. One synchronisation for the whole model.
std::string first_nonfinite_gradient(torch::nn::Module& model) {
  std::vector<torch::Tensor> sums;
  // A sum in double is non-finite exactly when an element is (float values cannot overflow it,
  // inf - inf is NaN), and reads each gradient once without a temporary.
  for (const auto& p : model.parameters())
    if (p.grad().defined()) sums.push_back(p.grad().sum(torch::kDouble));
  if (sums.empty() || torch::stack(sums).isfinite().all().item<bool>()) return "";
  for (const auto& p : model.named_parameters())
    if (p.value().grad().defined() && !p.value().grad().isfinite().all().item<bool>())
      return "the gradient of " + p.key();
  return "a gradient";
}

// The metrics of `all` that the task records, and their hard-attention twins ("hard_accuracy").
json recorded(const Task& task, const json& all, json record) {
  for (const auto& key : task.metric_keys())
    for (const auto& name : {key, "hard_" + key})
      if (all.contains(name)) record[name] = all[name];
  return record;
}

// A run for hard attention: trained hard, sharpened by a beta schedule, or chosen by a hard
// metric. Its validations and test measure the model with hard attention as well.
bool measures_hard(const Config& c) {
  return c.model.attention == AttentionMode::Hard || c.model.beta_schedule != BetaSchedule::Constant || is_hard(c.train.metric);
}

// The training loop of one run, and the validations and checkpoints inside it.
class Loop {
 public:
  Loop(const TrainRequest& req, const RunPlan& plan, Run& run, Replicas& replicas, RunDirectory& dir,
       TrainResult& result, Clock::time_point run_start)
      : run_start_(run_start), req_(req), cfg_(plan.config), t_(cfg_.train), run_(run), task_(*run.task), model_(task_.model()),
        state_(run.state), replicas_(replicas), dir_(dir), result_(result),
        schedule_(t_, static_cast<int64_t>(task_.epoch_batches(0).size())), start_step_(state_.step),
        checkpoints_(dir.checkpoints(), t_.keep_last, replicas.lead(), plan.checkpoint_path,
                     plan.checkpoint ? state_.step : -1),
        progress_(dir, replicas.lead(), t_.log_every, schedule_.total_steps(), start_step_,
                  schedule_.batches_per_epoch()) {}

  /// Trains to the last step (or early stop); returns the signal that stopped it first, or 0.
  int run() {
    model_.train();
    follow_beta();
    if (start_step_ > 0) checkpoints_.reconcile_best(state_, dir_.log());
    const int64_t stopped_epoch = state_.epoch, stopped_batch = state_.batch;
    if (schedule_.leave_finished_epoch(state_))  // resumed with fewer batches per epoch (larger batches, less data)
      dir_.log().info("[run] the checkpoint stopped at batch {} of epoch {}, past the {} batches of this config's "
                      "epoch: going on with epoch {}",
                      stopped_batch, stopped_epoch + 1, schedule_.batches_per_epoch(), state_.epoch + 1);
    bool early_stop = false;
    while (!early_stop && schedule_.more_epochs(state_)) {
      const auto batches = task_.epoch_batches(state_.epoch);
      for (bool epoch_ended = false; !epoch_ended && !early_stop && !schedule_.finished(state_);) {
        const int64_t last = schedule_.step_end(state_);
        StepTotals step;
        std::string nonfinite = forward_backward(batches, last, step);
        step.signal = InterruptGuard::pending();
        replicas_.sum_step(gradients(), step, state_.step + 1);
        if (nonfinite.empty() && step.nonfinite_loss) nonfinite = "the loss (on another rank)";
        if (nonfinite.empty()) nonfinite = first_nonfinite_gradient(model_);
        if (!nonfinite.empty()) {
          epoch_ended = skip_step(nonfinite, last);
          continue;
        }
        progress_.add(step);
        const double lr = optimizer_step();
        epoch_ended = schedule_.step_taken(state_, last);
        follow_beta();
        progress_.report(state_, lr, schedule_.finished(state_));
        if (schedule_.validate_now(state_, epoch_ended)) early_stop = validate_in_loop();
        if (schedule_.save_now(state_, checkpoints_.saved_step())) save(json(), false);
        if (const int sig = replicas_.stop_signal(step)) return stopped_by(sig);
      }
    }
    return 0;
  }

  /// After the loop: collective time (several ranks), skipped steps, the best checkpoint on the
  /// test split and the summary (rank 0). Returns the signal that stopped it, or 0.
  int finish() {
    result_.steps = state_.step;
    result_.seconds = seconds_since(run_start_);
    if (replicas_.several() && state_.step > start_step_) {
      const double in_steps = replicas_.seconds() - comm_before_ - comm_in_eval_;
      dir_.log().info("[dist] collectives took {:.1f} ms per step, waiting for other ranks included ({:.1f}% of "
                      "the training time, validations excluded)",
                      1e3 * in_steps / double(state_.step - start_step_),
                      100 * in_steps / std::max(progress_.seconds() - eval_seconds_, 1e-9));
    }
    if (!replicas_.lead()) return 0;  // the test split is rank 0's alone
    if (state_.skipped > 0)
      dir_.log().warn("[train] {} step(s) skipped for a non-finite loss or gradient", state_.skipped);
    result_.best_checkpoint = (fs::path(dir_.checkpoints()) / "best.pt").string();
    if (!fs::exists(result_.best_checkpoint)) validate_and_save(/*all_ranks=*/false);
    CheckpointReader best(result_.best_checkpoint);
    if (result_.best_valid.is_null()) result_.best_valid = best.header().metrics;
    if (task_.has(Split::Test)) {
      if (const int sig = InterruptGuard::pending()) return stopped_by(sig);
      best.load_model(model_);
      if (best.header().state.beta > 0) use_beta(model_, cfg_.model, best.header().state.beta);
      std::string summary;
      // Nothing is written while the test split is evaluated: a signal ends it at once.
      const StopAtOnce stop("\n[run] signal received during the test evaluation: stopping now. Training is complete; "
                            "`attn eval RUN --split test` evaluates its best.pt\n");
      result_.test = task_.evaluate(Split::Test, summary);
      if (measures_hard(cfg_)) add_hard_metrics(Split::Test, result_.test, summary);
      dir_.record(recorded(task_, result_.test, {{"kind", "test"}, {"step", best.header().state.step}}));
      dir_.log().info("[test] best checkpoint (step {}) | {} | {} examples | {:.1f}s", best.header().state.step,
                      summary, result_.test.value("count", 0), result_.test.value("seconds", 0.0));
    }
    if (t_.average_last > 0)
      if (const int sig = average_last()) return sig;
    dir_.draw_curves();
    if (t_.plot_examples > 0)
      dir_.log().info("[run] attention pictures of {} validation input(s) in {}/attention: {:.1f}s in all",
                      t_.plot_examples, dir_.path(), plot_seconds_);
    result_.seconds = seconds_since(run_start_);
    // Named by the metric best.pt was chosen by: after a resume that changed train.metric and
    // validated nothing since, that is still the old one.
    dir_.log().info("[run] done in {} | best {} {:.4f} at step {} | {}", format_duration(result_.seconds),
                    to_string(best.header().config.train.metric), best.header().state.best, best.header().state.best_step,
                    result_.best_checkpoint);
    return 0;
  }

 private:
  // One optimizer step's forward and backward passes over batches state.batch..last-1 (grad_accum
  // of them, fewer at the end of an epoch), each weighed by its share of the step's units
  // (examples, or target tokens); with several ranks each computes its slice of every batch, and
  // the weights are shares of the whole step's units, so the summed gradient is the batch's.
  // Returns what was not finite ("" when all was).
  std::string forward_backward(const std::vector<std::vector<size_t>>& batches, int64_t last, StepTotals& step) {
    double units = 0;
    for (int64_t b = state_.batch; b < last; ++b) units += task_.units(batches[b]);
    for (int64_t b = state_.batch; b < last; ++b) {
      const auto part = replicas_.shard(batches[b]);
      if (part.empty()) continue;
      auto r = task_.forward(part);
      if (!std::isfinite(r.loss_sum)) return "the loss (" + std::to_string(r.loss_sum / std::max(r.units, 1.0)) + ")";
      (r.loss * (r.units / units)).backward();
      step.loss += r.loss_sum, step.correct += r.correct, step.units += r.units;
      step.samples += double(part.size());
    }
    return "";
  }

  // Gradients are dropped after each step (clear_gradients); a parameter this step did not reach
  // (hard attention without gradient, a shard with no example) gets zeros, so that AdamW still
  // decays it, as with zeroed gradients, and every rank sends every tensor.
  std::vector<torch::Tensor> gradients() {
    std::vector<torch::Tensor> grads;
    for (auto& p : run_.params) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      grads.push_back(p.grad());
    }
    return grads;
  }

  // train.nonfinite "stop" ends the run before the update; "skip" drops the step. Returns
  // whether the skipped step ended the epoch.
  bool skip_step(const std::string& nonfinite, int64_t last) {
    clear_gradients(*run_.optimizer);
    const std::string where = "step " + std::to_string(state_.step + 1) + " (epoch " +
                              std::to_string(state_.epoch + 1) + ", batch " + std::to_string(state_.batch) + ")";
    if (t_.nonfinite == NonFinite::Stop)
      throw NonFiniteError("[train] " + where + ": " + nonfinite + " is not finite; stopping before the update. " +
                           checkpoints_.last_good() +
                           " Lower train.lr or set train.clip_grad_norm and continue with --resume, or set "
                           "train.nonfinite=skip to drop such steps");
    const bool epoch_ended = schedule_.step_skipped(state_, last);
    dir_.log().warn("[train] {}: {} is not finite; step skipped ({} so far)", where, nonfinite, state_.skipped);
    return epoch_ended;
  }

  double optimizer_step() {
    if (t_.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(run_.params, t_.clip_grad_norm);
    const double lr = learning_rate(t_, state_.step, schedule_.total_steps());
    for (auto& group : run_.optimizer->param_groups()) group.options().set_lr(lr);
    run_.optimizer->step();
    clear_gradients(*run_.optimizer);
    return lr;
  }

  // model.beta_schedule: the beta for the step to come of the attention model.hard_in names, and
  // for the validation and checkpoint after the last step (state.beta: eval and resume use it too).
  void follow_beta() {
    if (const auto beta = scheduled_beta(cfg_.model, state_.step, schedule_.total_steps())) {
      use_beta(model_, cfg_.model, *beta);
      state_.beta = *beta;
    }
  }

  // The split again with hard attention in model.hard_in's places: each metric as "hard_<name>"
  // (a model trained hard is that model already: its metrics are copied).
  void add_hard_metrics(Split split, json& metrics, std::string& summary) {
    json hard = metrics;
    std::string hard_summary = summary;
    if (cfg_.model.attention != AttentionMode::Hard) {
      use_attention(model_, cfg_.model, AttentionMode::Hard);
      try {
        hard = task_.evaluate(split, hard_summary);
      } catch (...) {
        use_attention(model_, cfg_.model, AttentionMode::Soft);
        throw;
      }
      use_attention(model_, cfg_.model, AttentionMode::Soft);
      summary += " | hard: " + hard_summary;
    }
    for (const auto& key : task_.metric_keys())
      if (hard.contains(key)) metrics["hard_" + key] = hard[key];
  }

  // train.average_last N: the mean of the newest N step checkpoints (fewer when the run kept
  // fewer) into checkpoints/averaged.pt, measured on the validation and test splits beside
  // best.pt and recorded as "averaged_valid" / "averaged_test". Returns the signal that
  // stopped it, or 0.
  int average_last() {
    const auto all = list_step_checkpoints(dir_.checkpoints());  // newest first
    const size_t n = std::min(all.size(), static_cast<size_t>(t_.average_last));
    if (n < 2) {
      dir_.log().warn("[average] train.average_last {}: the run kept {} step checkpoint(s), nothing to average",
                      t_.average_last, all.size());
      return 0;
    }
    if (const int sig = InterruptGuard::pending()) return stopped_by(sig);
    const std::vector<std::string> inputs(all.rend() - static_cast<long>(n), all.rend());  // oldest first
    const auto averaged = average_checkpoints(inputs, (fs::path(dir_.checkpoints()) / "averaged.pt").string(),
                                               req_.load_model);
    CheckpointReader reader(averaged.path);
    reader.load_model(model_);
    if (reader.header().state.beta > 0) use_beta(model_, cfg_.model, reader.header().state.beta);
    const StopAtOnce stop("\n[run] signal received while measuring the averaged checkpoint: stopping now. "
                          "Training is complete; `attn eval RUN/checkpoints/averaged.pt` measures it\n");
    std::vector<Split> splits = {Split::Valid};
    if (task_.has(Split::Test)) splits.push_back(Split::Test);
    for (const Split split : splits) {
      std::string summary;
      json metrics = task_.evaluate(split, summary);
      if (measures_hard(cfg_)) add_hard_metrics(split, metrics, summary);
      const bool test = split == Split::Test;
      dir_.record(recorded(task_, metrics, {{"kind", test ? "averaged_test" : "averaged_valid"},
                                            {"step", averaged.step}, {"averaged_from", averaged.inputs}}));
      (test ? result_.averaged_test : result_.averaged_valid) = metrics;
      dir_.log().info("[average] the last {} checkpoints (to step {}) on {} | {} | {}", n, averaged.step,
                      test ? "test" : "valid", summary, averaged.path);
    }
    return 0;
  }

  // A validation inside the loop, its time left out of samples/s; returns whether early stopping
  // ends the run.
  bool validate_in_loop() {
    const auto start = Clock::now();
    const double comm_start = replicas_.seconds();
    validate_and_save(/*all_ranks=*/true);
    progress_.exclude(Clock::now() - start);
    eval_seconds_ += seconds_since(start);
    comm_in_eval_ += replicas_.seconds() - comm_start;
    model_.train();
    if (schedule_.out_of_patience(state_)) {
      dir_.log().info("[train] early stop: no better validation {} in {} evaluations", to_string(t_.metric),
                      state_.stale);
      return true;
    }
    return false;
  }

  // Validates, writes step_N.pt (and best.pt when it improves). With several ranks, each
  // evaluates the whole validation split (so none waits long on another) and rank 0's verdict,
  // the one it writes, is sent to all: early stopping agrees everywhere.
  void validate_and_save(bool all_ranks) {
    std::string summary;
    auto vj = task_.evaluate(Split::Valid, summary);
    if (measures_hard(cfg_)) add_hard_metrics(Split::Valid, vj, summary);
    const double value = vj.at(to_string(t_.metric)).get<double>();
    const bool first = state_.best_step < 0;
    ValidationVerdict verdict{first || (lower_is_better(t_.metric) ? value < state_.best : value > state_.best),
                              state_.best, state_.best_step, state_.stale + 1};
    if (verdict.improved) verdict.best = value, verdict.best_step = state_.step, verdict.stale = 0;
    if (all_ranks) replicas_.agree(verdict, state_.step);
    const bool improved = verdict.improved;
    state_.best = verdict.best, state_.best_step = verdict.best_step, state_.stale = verdict.stale;
    if (!replicas_.lead()) return;
    const double epoch_pos = double(state_.epoch) + double(state_.batch) / double(schedule_.batches_per_epoch());
    json rec = recorded(task_, vj, {{"kind", "valid"}, {"step", state_.step}, {"epoch", epoch_pos}});
    rec["best"] = improved;
    dir_.record(rec);
    dir_.log().info("[valid] step {} epoch {:.2f} | {}{} | {:.1f}s", state_.step, epoch_pos, summary,
                    improved ? " | best" : "", vj.value("seconds", 0.0));
    save(vj, improved);
    if (improved) result_.best_valid = vj;
    if (t_.plot_examples > 0) plot_attention();
  }

  // train.plot_examples: the last layer's attention maps (and a translation's alignment) of a few
  // fixed validation inputs as PNGs in RUN/attention/step_N/, so that a run shows attention
  // forming. A picture never stops a run: a failure is one warning.
  void plot_attention() {
    const auto start = Clock::now();
    const auto out = fs::path(dir_.path()) / "attention" / ("step_" + std::to_string(state_.step));
    try {
      model_.eval();
      CheckpointHeader h;
      h.config = cfg_;
      h.state = state_;
      const auto doc = attention_maps_json("", h, cfg_.model.attention,
                                           task_.attention_examples(static_cast<size_t>(t_.plot_examples)));
      AttentionFigureOptions options;
      options.last_layers = true;
      write_attention_figures(doc, out.string(), options);
    } catch (const std::exception& e) {
      if (!plot_warned_) dir_.log().warn("[valid] no attention pictures in {}: {}", out.string(), e.what());
      plot_warned_ = true;
    }
    plot_seconds_ += seconds_since(start);
  }

  void save(const json& valid_metrics, bool best) {
    CheckpointHeader h;
    h.config = cfg_;
    task_.fill_header(h);
    h.state = state_;
    h.metrics = valid_metrics;
    h.attn_version = ATTN_VERSION;
    h.torch_version = TORCH_VERSION;
    checkpoints_.save(h, model_, *run_.optimizer, best);
  }

  // The command that continues this run: its checkpoint holds the config with every override,
  // so the directory is all it needs.
  std::string continue_command() const {
    TrainRequest again;
    again.out_dir = dir_.path(), again.resume = true;
    if (!replicas_.several()) return again.command();
    const auto& env = replicas_.env();
    const int nodes = env.world_size / std::max(1, env.local_world_size);
    return "attn launch --nproc " + std::to_string(env.local_world_size) +
           (nodes > 1 ? " --nnodes " + std::to_string(nodes) + " --node-rank R --master-addr " + env.master_addr +
                            " --master-port " + std::to_string(env.master_port)
                      : "") +
           " -- " + again.command().substr(5) + (nodes > 1 ? " (on each host, R its index)" : "");
  }

  // A signal: a checkpoint of this step (when there is none yet), and how to continue.
  int stopped_by(int sig) {
    if (checkpoints_.saved_step() != state_.step) save(json(), false);
    progress_.clear_line();
    dir_.log().info("[run] stopped by {} at step {}; checkpoint {}. Continue with: {}", signal_name(sig), state_.step,
                    checkpoints_.last_path(), continue_command());
    result_.steps = state_.step;
    result_.seconds = seconds_since(run_start_);
    return sig;
  }

  InterruptGuard interrupts_;  // SIGINT / SIGTERM: finish the step, checkpoint, exit 130 / 143
  const Clock::time_point run_start_;
  const TrainRequest& req_;
  const Config& cfg_;
  const TrainConfig& t_;
  Run& run_;
  Task& task_;
  torch::nn::Module& model_;
  TrainState& state_;
  Replicas& replicas_;
  RunDirectory& dir_;
  TrainResult& result_;
  const Schedule schedule_;
  const int64_t start_step_;
  Checkpointer checkpoints_;
  Progress progress_;
  const double comm_before_ = replicas_.seconds();  // rendezvous and set-up
  double comm_in_eval_ = 0;  // the verdict broadcasts: waiting for the slowest validation
  double eval_seconds_ = 0;  // validations and their checkpoints, inside the loop
  double plot_seconds_ = 0;  // train.plot_examples' pictures, inside the validations
  bool plot_warned_ = false;
};

void log_start(RunDirectory& dir, const RunPlan& plan, const Run& run, const Replicas& replicas) {
  const Config& cfg = plan.config;
  auto& log = dir.log();
  log.info("[run] {} | device {} | {} | {} threads | seed {} | config hash {:016x} | out {}", versions(), run.device.str(),
           run.precision, run.threads, cfg.seed, std::hash<std::string>{}(to_json(cfg).dump()), dir.path());
  if (plan.checkpoint) {
    log.info("[run] resuming from {} at step {} (epoch {}, batch {})", plan.checkpoint_path, run.state.step,
             run.state.epoch + 1, run.state.batch);
    for (const auto& c : plan.changed) log.info("[run] changed on resume: {}", c);
    if (plan.checkpoint->header().config.train.metric != cfg.train.metric)
      log.info("[run] train.metric is now {}: the best checkpoint is chosen anew from the next validation on "
               "(best.pt keeps the {} best until then)",
               to_string(cfg.train.metric), to_string(plan.checkpoint->header().config.train.metric));
    if (run.written_by != replicas.world_size())
      log.info("[dist] the checkpoint was written by {} process(es); continuing with {}: the batches, "
               "their order and the position in it do not depend on the number of processes",
               run.written_by, replicas.world_size());
  }
  for (const auto& line : run.task->describe()) log.info("{}", line);
  if (replicas.several()) {
    const auto b = cfg.train.batch_size;
    const auto& env = replicas.env();
    log.info("[dist] {} processes (c10d, Gloo) | rendezvous {}:{} | {} thread(s) each | train.batch_size {} is "
             "the global batch: {}-{} examples per rank | gradients summed in buckets of <= {} MiB",
             env.world_size, env.master_addr, env.master_port, run.threads, b, b / env.world_size,
             (b + env.world_size - 1) / env.world_size, Communicator::bucket_bytes >> 20);
  }
}

}  // namespace

std::string TrainRequest::command() const {
  auto quoted = [](const std::string& a) {
    if (!a.empty() && a.find_first_of(" \t'\"$\\*?;&|<>()`!#~") == std::string::npos) return a;
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  };
  std::string c = "attn train";
  if (!config_path.empty()) c += " " + quoted(config_path);
  for (const auto& o : overrides) c += " --set " + quoted(o);
  if (!out_dir.empty()) c += " --out " + quoted(out_dir);
  if (resume) c += " --resume";
  if (force) c += " --force";
  return c;
}

TrainResult train(const TrainRequest& req) {
  if (!req.make_task || !req.load_model)
    throw std::logic_error("train: the request names no task factory or model loader (cli/task_kinds.h)");
  const auto run_start = Clock::now();
  TrainResult result;
  result.out_dir = req.out_dir.empty() ? default_out_dir(req.config_path) : req.out_dir;
  if (req.resume && req.force) throw UsageError("--resume and --force exclude each other");

  Replicas replicas(request_fingerprint(req));  // one of several processes: join the others first
  result.rank = replicas.rank();
  const RunPlan plan = plan_run(req, result.out_dir, replicas);  // the directory locked, nothing written yet
  const KernelScope kernels(kernels_of(plan.config.model));       // model.*_kernel, while the run lasts
  Run run = build_run(plan, req.make_task, replicas);                            // data, model, optimizer
  std::optional<RunDirectory> dir;  // created only now that the inputs are known to be good
  replicas.on_every_rank("creating the run directory", [&] {
    dir.emplace(result.out_dir, req.force, plan.config, plan.record, plan.lock.get(), replicas.lead(), replicas.rank(),
                run_start);
  });
  log_start(*dir, plan, run, replicas);

  Loop loop(req, plan, run, replicas, *dir, result, run_start);
  result.interrupted = loop.run();
  if (!result.interrupted) result.interrupted = loop.finish();
  return result;
}

}  // namespace attn
