#include "attn/train/trainer.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "attn/core/atomic_file.h"
#include "attn/io/checkpoint_reader.h"
#include "attn/train/distributed.h"
#include "attn/train/interrupt.h"
#include "attn/train/lr_schedule.h"
#include "attn/train/optimizer.h"
#include "attn/runtime/runtime.h"
#include "attn/train/task.h"

namespace attn {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

Config resolve_config(const std::string& config_path, const std::vector<std::string>& overrides) {
  if (!config_path.empty()) return load_config(config_path, overrides);
  ConfigJson j = to_json(Config{});
  for (const auto& o : overrides) apply_override(j, o);
  Config c = config_from_json(j);
  validate(c);
  return c;
}

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string default_out_dir(const std::string& config_path) {
  const std::string stem = config_path.empty() ? "default" : fs::path(config_path).stem().string();
  return (fs::path("runs") / stem).string();
}

// Keys that a resumed run may change: how to train, not what is trained or on which data.
bool may_change_on_resume(const std::string& pointer) {
  return pointer.rfind("/train/", 0) == 0 || pointer.rfind("/decode/", 0) == 0 || pointer == "/device" ||
         pointer == "/threads";
}

// "train.lr (0.001 -> 0.0003)" for each leaf where the two configs differ.
std::vector<std::pair<std::string, std::string>> config_changes(const Config& from, const Config& to) {
  auto a = to_json(from).flatten(), b = to_json(to).flatten();
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = b.begin(); it != b.end(); ++it) {
    auto old = a.find(it.key());
    if (old != a.end() && *old == it.value()) continue;
    std::string key = it.key().substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    out.emplace_back(it.key(), key + " (" + (old == a.end() ? "unset" : old->dump()) + " -> " +
                                   it.value().dump() + ")");
  }
  return out;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& log_path) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_path);
  auto logger = std::make_shared<spdlog::logger>("attn", spdlog::sinks_init_list{console, file});
  logger->set_pattern("%Y-%m-%d %H:%M:%S %v");
  logger->flush_on(spdlog::level::info);
  return logger;
}

// Ranks other than 0 write nothing: their warnings go to the console, marked with the rank.
std::shared_ptr<spdlog::logger> make_rank_logger(int rank) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("attn", console);
  logger->set_pattern("%Y-%m-%d %H:%M:%S [rank " + std::to_string(rank) + "] %v");
  logger->set_level(spdlog::level::warn);
  return logger;
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

// Runs `part` on this rank; with several ranks, all then learn whether every rank succeeded, so
// that one rank's bad input stops the job at once instead of leaving the others waiting.
template <class F>
void on_every_rank(Communicator* comm, const std::string& what, F&& part) {
  if (!comm) return part();
  std::exception_ptr error;
  try {
    part();
  } catch (...) {
    error = std::current_exception();
  }
  const auto failed = comm->failed_ranks(!error, what);
  if (error) std::rethrow_exception(error);
  if (!failed.empty()) {
    std::string ranks;
    for (int r : failed) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    throw DistributedError("rank " + std::to_string(comm->rank()) + ": rank " + ranks + " failed while " + what +
                           " (its message says why); stopping");
  }
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

bool better(const TrainConfig& t, double value, double best, bool have_best) {
  if (!have_best) return true;
  return t.metric == "loss" ? value < best : value > best;
}

std::string format_duration(double seconds) {
  char buf[32];
  const auto s = static_cast<long long>(seconds);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  return buf;
}

}  // namespace

TrainResult train(const TrainRequest& req) {
  const auto run_start = Clock::now();
  TrainResult result;
  result.out_dir = req.out_dir.empty() ? default_out_dir(req.config_path) : req.out_dir;
  const std::string out = result.out_dir, ckpt_dir = (fs::path(out) / "checkpoints").string();
  if (req.resume && req.force) throw UsageError("--resume and --force exclude each other");

  // 0. One of several processes (torchrun's variables, or attn launch): join the others first.
  const DistEnv env = read_dist_env();
  std::unique_ptr<Communicator> comm;
  if (env.distributed())
    comm = std::make_unique<Communicator>(env, std::chrono::seconds(env.timeout_s), request_fingerprint(req));
  const bool lead = env.rank == 0;  // the only rank that reads the run directory and writes
  result.rank = env.rank;

  // 1. Config, and on resume the checkpoint it continues. Nothing is written yet. Rank 0 finds
  // them and sends them to the other ranks, which need no access to the run directory.
  std::unique_ptr<CheckpointReader> resume_from;
  std::string resume_path, resume_bytes;
  bool fresh_resume = false;
  Config cfg;
  std::vector<std::string> changed;
  on_every_rank(comm.get(), "reading the config and the checkpoint to resume", [&] {
    if (!lead) return;
    if (req.resume) {
      const auto found = list_step_checkpoints(ckpt_dir);
      if (found.empty()) fresh_resume = true;  // stopped before its first checkpoint: start it again
      // The newest checkpoint that reads; a damaged one (a disk error: writes are atomic) is
      // passed over with a warning, never deleted.
      std::string problems;
      for (const auto& path : fresh_resume ? std::vector<std::string>() : found) {
        try {
          auto bytes = read_checkpoint_file(path);
          resume_from = std::make_unique<CheckpointReader>(path, bytes);
          resume_path = path;
          if (comm) resume_bytes = std::move(bytes);
          break;
        } catch (const CheckpointError& e) {
          std::fprintf(stderr, "[run] warning: %s; trying an older checkpoint\n", e.what());
          problems += std::string(problems.empty() ? "" : "; ") + e.what();
        }
      }
      if (!resume_from && !fresh_resume) throw CheckpointError(out + ": no checkpoint can be resumed: " + problems);
    }
    if (fresh_resume) {
      // The run's own config.json when no config is given; the directory is the run's, kept.
      const auto saved_config = (fs::path(out) / "config.json").string();
      if (req.config_path.empty() && !fs::exists(saved_config))
        throw UsageError(out +
                         ": nothing to resume (no checkpoints/step_*.pt, no config.json); drop --resume to start");
      cfg = req.config_path.empty() ? load_config(saved_config, req.overrides)
                                    : resolve_config(req.config_path, req.overrides);
      std::fprintf(stderr, "[run] --resume: %s has no checkpoint yet; starting the run from step 0\n", out.c_str());
    } else if (req.resume) {
      const Config& saved = resume_from->header().config;
      if (req.config_path.empty()) {
        ConfigJson j = to_json(saved);
        for (const auto& o : req.overrides) apply_override(j, o);
        cfg = config_from_json(j);
        validate(cfg);
      } else {
        cfg = load_config(req.config_path, req.overrides);
      }
      for (const auto& [pointer, text] : config_changes(saved, cfg)) {
        if (!may_change_on_resume(pointer))
          throw ConfigError("--resume: the config changes " + text +
                            "; the architecture, data and seed come from the checkpoint " +
                            resume_path + " (only train.*, decode.*, device and threads may change)");
        changed.push_back(text);
      }
    } else {
      cfg = resolve_config(req.config_path, req.overrides);
      std::error_code ec;
      if (fs::exists(out, ec) && !fs::is_empty(out, ec) && !req.force)
        throw UsageError(out + ": the run directory exists; use --resume to continue it, --force to "
                         "move it aside, or --out for another directory");
    }
  });
  if (comm) {
    const auto sent = json::parse(comm->broadcast_bytes(
        lead ? json{{"config", json::parse(to_json(cfg).dump())}, {"resume_path", resume_path}}.dump() : "",
        "sending the config"));
    resume_bytes = comm->broadcast_bytes(resume_bytes, "sending the checkpoint to resume");
    if (!lead) {
      cfg = config_from_json(ConfigJson::parse(sent.at("config").dump()));
      resume_path = sent.at("resume_path").get<std::string>();
      if (!resume_bytes.empty())
        resume_from = std::make_unique<CheckpointReader>(resume_path, std::move(resume_bytes));
    }
    resume_bytes.clear();
  }

  // 2-3. Where and how to run; data and model, read, checked and built before anything is
  // written. Every rank reads the whole data set and builds the whole model.
  torch::Device device(torch::kCPU);
  int threads = 1;
  std::unique_ptr<Task> task;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<torch::Tensor> params;
  TrainState state;
  on_every_rank(comm.get(), "reading the data and building the model", [&] {
    device = select_device(cfg.device);
    if (comm && device.is_cuda())
      throw DistributedError("device \"" + cfg.device + "\" with WORLD_SIZE=" + std::to_string(env.world_size) +
                             ": this build runs its collectives on Gloo (CPU tensors) and has no NCCL backend "
                             "(Debian's LibTorch is CPU only); use device cpu for a multi-process run");
    // threads 0: the host's cores shared among the processes on it
    const auto cores = static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()));
    threads = set_threads(cfg.threads > 0 ? cfg.threads : std::max<int64_t>(1, cores / env.local_world_size));
    torch::manual_seed(cfg.seed);
    task = make_task(cfg, device, resume_from ? &resume_from->header() : nullptr, threads);
    params = trainable_parameters(task->model());
    optimizer = make_optimizer(cfg.train, params);
    if (resume_from) {
      resume_from->load_model(task->model());
      resume_from->load_optimizer(*optimizer);
      resume_from->restore_rng();
      state = resume_from->header().state;
    }
  });
  auto& model = task->model();
  if (comm) {
    // Identical weights everywhere (as DistributedDataParallel does), and dropout streams of
    // their own on ranks other than 0.
    std::vector<torch::Tensor> all;
    for (auto& p : model.parameters()) all.push_back(p.detach());
    for (auto& b : model.buffers()) all.push_back(b.detach());
    {
      torch::NoGradGuard no_grad;
      comm->broadcast(all, "sending rank 0's parameters");
    }
    if (!lead)
      torch::manual_seed(cfg.seed + 1000003ull * static_cast<uint64_t>(env.rank) + static_cast<uint64_t>(state.step));
  }
  const int64_t written_by = state.world_size;
  state.world_size = env.world_size;

  // 4. The run directory: created only now that the inputs are known to be good. Rank 0's.
  std::shared_ptr<spdlog::logger> log;
  std::ofstream metrics;
  on_every_rank(comm.get(), "creating the run directory", [&] {
    if (!lead) {
      log = make_rank_logger(env.rank);
      return;
    }
    if (req.force && fs::exists(out)) {
      char stamp[32];
      const std::time_t now = std::time(nullptr);
      std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
      const std::string aside = out + ".bak-" + stamp;
      fs::rename(out, aside);
      std::fprintf(stderr, "[run] --force: moved the existing %s to %s\n", out.c_str(), aside.c_str());
    }
    fs::create_directories(ckpt_dir);
    for (const auto& e : fs::directory_iterator(ckpt_dir))  // left by a write that was killed
      if (e.path().filename().string().find(".pt.tmp.") != std::string::npos) {
        std::fprintf(stderr, "[run] removing %s, an unfinished write of a killed run\n", e.path().c_str());
        fs::remove(e.path());
      }
    write_file_atomically((fs::path(out) / "config.json").string(), to_json(cfg).dump(2) + "\n");
    log = make_logger((fs::path(out) / "train.log").string());
    metrics.open((fs::path(out) / "metrics.jsonl").string(), std::ios::app);
  });
  auto record = [&](json j) {
    if (!lead) return;
    j["time"] = seconds_since(run_start);
    metrics << j.dump() << "\n";
    metrics.flush();
  };

  const auto config_hash = std::hash<std::string>{}(to_json(cfg).dump());
  log->info("[run] {} | device {} | {} threads | seed {} | config hash {:016x} | out {}", versions(),
            device.str(), threads, cfg.seed, config_hash, out);
  if (resume_from) {
    log->info("[run] resuming from {} at step {} (epoch {}, batch {})", resume_path, state.step,
              state.epoch + 1, state.batch);
    for (const auto& c : changed) log->info("[run] changed on resume: {}", c);
    if (written_by != env.world_size)
      log->info("[dist] the checkpoint was written by {} process(es); continuing with {}: the batches, "
                "their order and the position in it do not depend on the number of processes",
                written_by, env.world_size);
  }
  for (const auto& line : task->describe()) log->info("{}", line);
  if (comm) {
    const auto b = cfg.train.batch_size;
    log->info("[dist] {} processes (c10d, Gloo) | rendezvous {}:{} | {} thread(s) each | train.batch_size {} is "
              "the global batch: {}-{} examples per rank | gradients summed in buckets of <= {} MiB",
              env.world_size, env.master_addr, env.master_port, threads, b, b / env.world_size,
              (b + env.world_size - 1) / env.world_size, Communicator::bucket_bytes >> 20);
  }

  // 5. The loop.
  const auto& t = cfg.train;
  const auto batches_per_epoch = static_cast<int64_t>(task->epoch_batches(0).size());
  const int64_t steps_per_epoch = (batches_per_epoch + t.grad_accum - 1) / t.grad_accum;
  int64_t total_steps = t.epochs * steps_per_epoch;
  if (t.max_steps > 0) total_steps = std::min(total_steps, t.max_steps);
  const bool tty = ::isatty(::fileno(stderr));

  auto header = [&](const json& valid_metrics) {
    CheckpointHeader h;
    h.config = cfg;
    task->fill_header(h);
    h.state = state;
    h.metrics = valid_metrics;
    h.attn_version = ATTN_VERSION;
    h.torch_version = TORCH_VERSION;
    return h;
  };
  // Writes step_N.pt (and best.pt), prunes old step files. A failed write ends the run: the
  // files already there are untouched, and --resume continues from the newest.
  int64_t saved_step = resume_from ? state.step : -1;
  std::string last_saved = resume_from ? resume_path : std::string();
  auto save = [&](const json& valid_metrics, bool best) {
    if (!lead) {
      saved_step = state.step;
      return;
    }
    const auto path = (fs::path(ckpt_dir) / step_checkpoint_name(state.step)).string();
    const auto bytes = serialize_checkpoint(header(valid_metrics), model, optimizer.get());
    try {
      write_file_atomically(path, bytes);
      if (best) write_file_atomically((fs::path(ckpt_dir) / "best.pt").string(), bytes);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(e.what()) + "; stopping at step " + std::to_string(state.step) +
                               " rather than train on without checkpoints. " +
                               (last_saved.empty() ? std::string("No checkpoint was written before this one.")
                                                   : "The last checkpoint, " + last_saved +
                                                         ", is intact: free some space and continue with --resume"));
    }
    saved_step = state.step, last_saved = path;
    const auto all = list_step_checkpoints(ckpt_dir);
    for (size_t i = static_cast<size_t>(t.keep_last); i < all.size(); ++i) fs::remove(all[i]);
  };
  // Validates, writes step_N.pt (and best.pt when it improves).
  // With several ranks, each evaluates the whole validation split (so none waits long on another)
  // and rank 0's verdict, the one it writes, is sent to all: early stopping agrees everywhere.
  auto validate_and_save = [&](bool all_ranks) {
    std::string summary;
    const auto vj = task->evaluate(Split::Valid, summary);
    const double value = vj.at(t.metric).get<double>();
    bool improved = better(t, value, state.best, state.best_step >= 0);
    if (improved) state.best = value, state.best_step = state.step, state.stale = 0;
    else ++state.stale;
    if (comm && all_ranks) {
      auto verdict = torch::tensor({double(improved), state.best, double(state.best_step), double(state.stale)},
                                   torch::kDouble);  // (4)
      comm->broadcast({verdict}, "the validation verdict of step " + std::to_string(state.step));
      improved = verdict[0].item<double>() != 0, state.best = verdict[1].item<double>();
      state.best_step = static_cast<int64_t>(verdict[2].item<double>());
      state.stale = static_cast<int64_t>(verdict[3].item<double>());
    }
    if (!lead) return;
    const double epoch_pos = double(state.epoch) + double(state.batch) / double(batches_per_epoch);
    json rec = {{"kind", "valid"}, {"step", state.step}, {"epoch", epoch_pos}};
    for (const char* key : {"loss", "accuracy", "perplexity", "bleu", "bleu_lowercase", "exact_match"})
      if (vj.contains(key)) rec[key] = vj[key];
    rec["best"] = improved;
    record(rec);
    log->info("[valid] step {} epoch {:.2f} | {}{} | {:.1f}s", state.step, epoch_pos, summary,
              improved ? " | best" : "", vj.value("seconds", 0.0));
    save(vj, improved);
    if (improved) result.best_valid = vj;
  };

  InterruptGuard interrupts;  // SIGINT / SIGTERM: finish the step, checkpoint, exit 130 / 143
  model.train();
  auto window_start = Clock::now();
  double window_loss = 0, window_correct = 0, window_units = 0, window_samples = 0;
  bool stop = state.step >= total_steps;
  const int64_t start_step = state.step;
  const auto loop_start = Clock::now();
  double eval_seconds = 0;  // validations and their checkpoints, inside the loop
  const double comm_before = comm ? comm->seconds() : 0;  // rendezvous and set-up
  double comm_in_eval = 0;  // the verdict broadcasts: waiting for the slowest validation
  while (!stop && state.epoch < t.epochs) {
    const auto batches = task->epoch_batches(state.epoch);
    for (; state.batch < batches_per_epoch && !stop;) {
      // One optimizer step over grad_accum batches (fewer at the end of an epoch), each weighed
      // by its share of the step's units (examples, or target tokens).
      const int64_t first = state.batch;
      const int64_t last = std::min(batches_per_epoch, first + t.grad_accum);
      // With several ranks each computes its slice of every batch; the weights are shares of the
      // whole step's units, so the summed gradient is the one batch's gradient.
      double units = 0;
      for (int64_t b = first; b < last; ++b) units += task->units(batches[b]);
      std::string nonfinite;  // what was not finite in this step, if anything
      double step_loss = 0, step_correct = 0, step_units = 0, step_samples = 0;
      for (int64_t b = first; b < last; ++b) {
        const auto part = comm ? shard_of(batches[b], env.rank, env.world_size) : batches[b];
        if (part.empty()) continue;
        auto r = task->forward(part);
        if (!std::isfinite(r.loss_sum)) {
          nonfinite = "the loss (" + std::to_string(r.loss_sum / std::max(r.units, 1.0)) + ")";
          break;
        }
        (r.loss * (r.units / units)).backward();
        step_loss += r.loss_sum, step_correct += r.correct, step_units += r.units;
        step_samples += double(part.size());
      }
      int signal_seen = InterruptGuard::pending();
      // Gradients are dropped after each step (clear_gradients); a parameter this step did not
      // reach (hard attention without gradient, a shard with no example) gets zeros, so that
      // AdamW still decays it, as with zeroed gradients, and every rank sends every tensor.
      for (auto& p : params)
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      if (comm) {
        std::vector<torch::Tensor> grads;
        for (auto& p : params) grads.push_back(p.grad());
        const auto step_name = "step " + std::to_string(state.step + 1);
        comm->all_reduce_sum(grads, "the gradient all-reduce of " + step_name);
        // Which signal each rank has seen, one slot per signal, so that a rank whose own copy of
        // a Ctrl-C arrives a moment later stops at the same step, reporting the same signal.
        auto stats = torch::tensor({step_loss, step_correct, step_units, step_samples,
                                    nonfinite.empty() ? 0.0 : 1.0, signal_seen == SIGINT ? 1.0 : 0.0,
                                    signal_seen && signal_seen != SIGINT ? 1.0 : 0.0},
                                   torch::kDouble);  // (7)
        comm->all_reduce_sum({stats}, "the loss all-reduce of " + step_name);
        step_loss = stats[0].item<double>(), step_correct = stats[1].item<double>();
        step_units = stats[2].item<double>(), step_samples = stats[3].item<double>();
        if (nonfinite.empty() && stats[4].item<double>() > 0) nonfinite = "the loss (on another rank)";
        if (!signal_seen && stats[5].item<double>() > 0) signal_seen = SIGINT;  // another rank's
        if (!signal_seen && stats[6].item<double>() > 0) signal_seen = SIGTERM;
      }
      if (nonfinite.empty()) nonfinite = first_nonfinite_gradient(model);
      if (!nonfinite.empty()) {
        clear_gradients(*optimizer);
        const std::string where = "step " + std::to_string(state.step + 1) + " (epoch " +
                                  std::to_string(state.epoch + 1) + ", batch " + std::to_string(first) + ")";
        if (t.nonfinite == "stop")
          throw NonFiniteError("[train] " + where + ": " + nonfinite + " is not finite; stopping before the update. " +
                               (last_saved.empty() ? "No checkpoint was written yet."
                                                   : "The last good checkpoint is " + last_saved + ".") +
                               " Lower train.lr or set train.clip_grad_norm and continue with --resume, or set "
                               "train.nonfinite=skip to drop such steps");
        ++state.skipped;
        log->warn("[train] {}: {} is not finite; step skipped ({} so far)", where, nonfinite, state.skipped);
        state.batch = last;
        if (state.batch >= batches_per_epoch) {
          state.batch = 0, ++state.epoch;
          break;
        }
        continue;
      }
      window_loss += step_loss, window_correct += step_correct, window_units += step_units;
      window_samples += step_samples;
      if (t.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, t.clip_grad_norm);
      const double lr = learning_rate(t, state.step, total_steps);
      for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
      optimizer->step();
      clear_gradients(*optimizer);
      ++state.step;
      state.batch = last;
      if (state.batch >= batches_per_epoch) state.batch = 0, ++state.epoch;
      stop = state.step >= total_steps;

      if (lead && (state.step % t.log_every == 0 || stop || tty)) {
        const double dt = seconds_since(window_start);
        const double rate = window_samples / std::max(dt, 1e-9);
        const double steps_done = double(state.step - start_step);
        const double eta = seconds_since(loop_start) / std::max(steps_done, 1.0) * double(total_steps - state.step);
        const double epoch_pos = state.epoch + double(state.batch) / double(batches_per_epoch);
        char line[256];
        std::snprintf(line, sizeof line,
                      "[train] step %lld/%lld epoch %.2f | loss %.4f | accuracy %.4f | lr %.2e | "
                      "%.0f samples/s | ETA %s",
                      static_cast<long long>(state.step), static_cast<long long>(total_steps), epoch_pos,
                      window_loss / window_units, window_correct / window_units, lr, rate,
                      format_duration(eta).c_str());
        if (state.step % t.log_every == 0 || stop) {
          if (tty) std::fprintf(stderr, "\r\033[K");
          log->info("{}", line);
          record({{"kind", "train"}, {"step", state.step}, {"epoch", epoch_pos},
                  {"loss", window_loss / window_units}, {"accuracy", window_correct / window_units},
                  {"lr", lr}, {"samples_per_sec", rate}});
          window_start = Clock::now();
          window_loss = window_correct = window_units = window_samples = 0;
        } else {
          std::fprintf(stderr, "\r\033[K%s", line);
        }
      }
      const bool epoch_end = state.batch == 0;
      if ((t.eval_every > 0 && state.step % t.eval_every == 0) || (t.eval_every == 0 && epoch_end) || stop) {
        const auto eval_start = Clock::now();
        const double comm_start = comm ? comm->seconds() : 0;
        validate_and_save(true);
        window_start += Clock::now() - eval_start;  // samples/s counts training time only
        eval_seconds += seconds_since(eval_start);
        if (comm) comm_in_eval += comm->seconds() - comm_start;
        if (t.patience > 0 && state.stale >= t.patience) {
          log->info("[train] early stop: no better validation {} in {} evaluations", t.metric, state.stale);
          stop = true;
        }
        model.train();
      }
      if (t.save_every > 0 && state.step % t.save_every == 0 && saved_step != state.step) save(json(), false);
      // One process: a signal that came during the validation counts now; several: the step's
      // all-reduce said whether any rank got one, so that all stop at the same step.
      if (const int sig = comm ? signal_seen : InterruptGuard::pending()) {
        if (saved_step != state.step) save(json(), false);
        if (tty) std::fprintf(stderr, "\r\033[K");
        log->info("[run] stopped by {} at step {}; checkpoint {}. Continue with: attn train {}--out {} --resume",
                  signal_name(sig), state.step, last_saved,
                  req.config_path.empty() ? "" : req.config_path + " ", out);
        result.interrupted = sig;
        result.steps = state.step;
        result.seconds = seconds_since(run_start);
        return result;
      }
      if (epoch_end) break;
    }
  }
  result.steps = state.step;
  if (comm && state.step > start_step) {
    const double in_steps = comm->seconds() - comm_before - comm_in_eval;
    log->info("[dist] collectives took {:.1f} ms per step, waiting for other ranks included ({:.1f}% of the "
              "training time, validations excluded)",
              1e3 * in_steps / double(state.step - start_step),
              100 * in_steps / std::max(seconds_since(loop_start) - eval_seconds, 1e-9));
  }
  if (!lead) {  // the test split is rank 0's alone
    result.seconds = seconds_since(run_start);
    return result;
  }
  if (state.skipped > 0) log->warn("[train] {} step(s) skipped for a non-finite loss or gradient", state.skipped);

  // 6. The best checkpoint on the test split.
  result.best_checkpoint = (fs::path(ckpt_dir) / "best.pt").string();
  if (!fs::exists(result.best_checkpoint)) validate_and_save(false);
  CheckpointReader best(result.best_checkpoint);
  if (result.best_valid.is_null()) result.best_valid = best.header().metrics;
  if (task->has(Split::Test)) {
    best.load_model(model);
    std::string summary;
    result.test = task->evaluate(Split::Test, summary);
    json rec = {{"kind", "test"}, {"step", best.header().state.step}};
    for (const char* key : {"loss", "accuracy", "perplexity", "bleu", "bleu_lowercase", "exact_match"})
      if (result.test.contains(key)) rec[key] = result.test[key];
    record(rec);
    log->info("[test] best checkpoint (step {}) | {} | {} examples | {:.1f}s", best.header().state.step, summary,
              result.test.value("count", 0), result.test.value("seconds", 0.0));
  }
  result.seconds = seconds_since(run_start);
  log->info("[run] done in {} | best {} {:.4f} at step {} | {}", format_duration(result.seconds),
            t.metric, best.header().state.best, best.header().state.best_step, result.best_checkpoint);
  return result;
}

}  // namespace attn
