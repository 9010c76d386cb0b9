// `attn bench train` / `attn bench eval`: the speed of a config's training step (forward,
// backward, clipping, optimizer step) or forward pass, on random token batches of the config's
// shape (batch_size x max_len, its vocabulary), without reading any data.
//
// `attn bench attention`: one attention call, forward + backward, on a random set of t
// elements; with its peak resident memory, so that a script can run one point per process.
#include <torch/torch.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <numeric>

#include "attn/core/stopwatch.h"
#include "attn/kernels/blas_core.h"
#include "attn/model/build.h"
#include "attn/ops/fused_attention.h"
#include "attn/model/multi_head_attention.h"
#include "attn/train/distributed.h"
#include "attn/train/optimizer.h"
#include "attn/runtime/runtime.h"
#include "attn/train/trainer.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/task_commands.h"

namespace attn {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: kilobytes
}

}  // namespace

int run_bench_step(const BenchStepRequest& req) {
  Config cfg = resolve_config(req.config_path, req.overrides);
  const KernelScope kernels(kernels_of(cfg.model));
  const auto device = select_device(req.device, cfg.device);
  const int threads = set_threads(req.threads > 0 ? req.threads : cfg.threads);
  const std::string precision = set_precision(cfg.precision);
  torch::manual_seed(cfg.seed);
  auto s = commands_for(cfg.task).bench_step(cfg, device);
  const auto params = trainable_parameters(*s.module);
  auto optimizer = make_optimizer(cfg.train, params);
  auto step = [&] {
    if (req.train) {
      s.module->train();
      auto loss = s.loss();
      loss.backward();
      if (cfg.train.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, cfg.train.clip_grad_norm);
      optimizer->step();
      clear_gradients(*optimizer);
      (void)loss.item<float>();  // waits for the device, as the trainer's logging does
    } else {
      s.module->eval();
      torch::NoGradGuard no_grad;
      (void)s.predict().sum().item<double>();
    }
  };
  for (int64_t i = 0; i < req.warmup; ++i) step();
  std::vector<double> times;
  {
    // --profile: LibTorch's operator profiler over the timed steps, as a Chrome trace.
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (!req.profile_path.empty())
      profile = std::make_unique<torch::autograd::profiler::RecordProfile>(req.profile_path);
    for (int64_t i = 0; i < req.steps; ++i) {
      const auto t0 = Clock::now();
      step();
      times.push_back(seconds_since(t0));
    }
  }
  const double sec = median(times);
  const double mean = std::accumulate(times.begin(), times.end(), 0.0) / double(times.size());
  nlohmann::json out = {{"mode", req.train ? "train" : "eval"},
                        {"config", req.config_path},
                        {"batch", s.batch},
                        {"max_len", s.length},
                        {"vocab", s.vocab},
                        {"threads", threads},
                        {"device", device.str()},
                        {"precision", precision},
                        {"attention_kernel", to_string(cfg.model.attention_kernel)},
                        {"isa", fused_attention_isa()},
                        {"blas", kernels::blas_info().describe()},
                        {"steps", req.steps},
                        {"warmup", req.warmup},
                        {"sec_per_step", sec},
                        {"sec_per_step_mean", mean},
                        {"sec_per_step_min", *std::min_element(times.begin(), times.end())},
                        {"samples_per_sec", double(s.batch) / sec},
                        {"peak_rss_mb", peak_rss_mb()}};
  if (s.target_length) out["max_target_len"] = s.target_length;
  if (req.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::printf("%s %s | batch %lld x %lld | vocab %lld | %d threads | %s | %s attention (%s) | BLAS %s\n",
                req.train ? "train" : "eval", req.config_path.c_str(), static_cast<long long>(s.batch),
                static_cast<long long>(s.length), static_cast<long long>(s.vocab), threads, precision.c_str(),
                to_string(cfg.model.attention_kernel).c_str(), fused_attention_isa().c_str(),
                kernels::blas_info().describe().c_str());
    std::printf("%lld steps after %lld warm-up: median %.4f s/step (mean %.4f, min %.4f) | %.1f samples/s | "
                "peak RSS %.0f MB\n",
                static_cast<long long>(req.steps), static_cast<long long>(req.warmup), sec, mean,
                *std::min_element(times.begin(), times.end()), double(s.batch) / sec, peak_rss_mb());
  }
  return 0;
}

int run_bench_attention(const BenchAttentionRequest& req) {
  if (req.d_model % req.heads != 0)
    throw UsageError("bench attention: --heads (" + std::to_string(req.heads) + ") must divide --d-model (" +
                     std::to_string(req.d_model) + ")");
  Kernel kernel = Kernel::Fused;
  try {
    kernel = parse<Kernel>(req.kernel);
  } catch (const std::invalid_argument&) {
    throw UsageError("bench attention: --kernel must be \"fused\" or \"reference\", got \"" + req.kernel + "\"");
  }
  const int threads = set_threads(req.threads);
  torch::manual_seed(0);
  // The lecture's multi-head attention (projections included), self-attention over one set.
  KernelChoice choice;
  choice.attention = kernel;
  const KernelScope kernels(choice);
  MultiHeadAttention mha(MultiHeadAttentionOptions(req.d_model, req.heads));
  auto x = torch::randn({req.batch, req.length, req.d_model}, torch::requires_grad());  // (B, t, D)
  const double rss_before = peak_rss_mb();
  std::vector<double> times;
  for (int64_t i = 0; i < req.warmup + req.repeats; ++i) {
    const auto t0 = Clock::now();
    auto y = mha->forward(x, x, x, torch::Tensor(), req.causal).output;    // (B, t, D)
    y.sum().backward();
    if (i >= req.warmup) times.push_back(seconds_since(t0));
    x.mutable_grad() = torch::Tensor();
    mha->zero_grad();
  }
  const double sec = median(times);
  // Arithmetic of forward + backward: 2 products forward, 5 backward (the fused kernel also
  // recomputes the scores: +1), each 2 * B * t^2 * D multiply-adds over all heads.
  const double t = double(req.length), flops_matmul = 2.0 * req.batch * t * t * req.d_model;
  const double flops = flops_matmul * (kernel == Kernel::Fused ? 8 : 7) / (req.causal ? 2 : 1);
  nlohmann::json out = {{"length", req.length},  {"batch", req.batch},
                        {"d_model", req.d_model}, {"heads", req.heads},
                        {"causal", req.causal},   {"kernel", to_string(kernel)},
                        {"isa", fused_attention_isa()},
                        {"threads", threads},     {"sec", sec},
                        {"gflops", flops / sec / 1e9},
                        {"peak_rss_mb", peak_rss_mb()}, {"rss_before_mb", rss_before}};
  if (req.json)
    std::cout << out.dump() << "\n";
  else
    std::printf("attention t=%lld batch %lld d_model %lld heads %lld %s: %.4f s forward+backward, %.1f GFLOP/s, "
                "peak RSS %.0f MB\n",
                static_cast<long long>(req.length), static_cast<long long>(req.batch),
                static_cast<long long>(req.d_model), static_cast<long long>(req.heads), to_string(kernel).c_str(),
                sec, flops / sec / 1e9, peak_rss_mb());
  return 0;
}

int run_bench_allreduce(const BenchAllreduceRequest& req) {
  const auto env = read_dist_env();
  if (!env.distributed())
    throw UsageError("bench allreduce: run it with several processes, e.g. attn launch --nproc 2 -- bench allreduce");
  Communicator comm(env, std::chrono::seconds(env.timeout_s), "bench allreduce");
  const auto n = static_cast<int64_t>(req.size_mb * 1e6 / sizeof(float));
  auto grads = torch::randn({n});  // (n): one model's gradients, flattened
  auto token = torch::zeros({1});  // (1)
  std::vector<double> times;
  for (int64_t i = 0; i < 2 + req.repeats; ++i) {
    comm.all_reduce_sum({token}, "the barrier before all-reduce " + std::to_string(i));  // all ranks ready
    const auto t0 = Clock::now();
    comm.all_reduce_sum({grads}, "all-reduce " + std::to_string(i));
    if (i >= 2) times.push_back(seconds_since(t0));
  }
  if (env.rank != 0) return 0;
  const double sec = median(times), gbps = static_cast<double>(n) * sizeof(float) / sec / 1e9;
  if (req.json)
    std::cout << nlohmann::json{{"size_mb", req.size_mb}, {"processes", env.world_size}, {"sec", sec},
                                {"ms", sec * 1e3}, {"gb_per_sec", gbps}, {"buckets", (n * 4 + Communicator::bucket_bytes - 1) /
                                                                                       Communicator::bucket_bytes}}
                     .dump()
              << "\n";
  else
    std::printf("all-reduce of %.1f MB over %d processes (Gloo, buckets of <= %lld MiB): %.2f ms, %.2f GB/s\n",
                req.size_mb, env.world_size, static_cast<long long>(Communicator::bucket_bytes >> 20), sec * 1e3, gbps);
  return 0;
}

int run_bench_matmul(const BenchMatmulRequest& req) {
  const int threads = set_threads(req.threads);
  torch::manual_seed(0);
  const int64_t n = req.size;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});  // (n, n)
  std::vector<double> times;
  for (int64_t i = 0; i < 1 + req.repeats; ++i) {
    const auto t0 = Clock::now();
    torch::mm_out(c, a, b);
    if (i > 0) times.push_back(seconds_since(t0));
  }
  const double sec = median(times), gflops = 2.0 * n * n * n / sec / 1e9;
  const auto& blas = kernels::blas_info();
  if (req.json)
    std::cout << nlohmann::json{{"size", n},         {"threads", threads}, {"sec", sec},
                                {"gflops", gflops},  {"blas", blas.describe()}, {"blas_core", blas.core}}
                     .dump()
              << "\n";
  else
    std::printf("matmul %lld x %lld float32, %d threads: %.4f s, %.1f GFLOP/s | BLAS %s\n",
                static_cast<long long>(n), static_cast<long long>(n), threads, sec, gflops, blas.describe().c_str());
  return 0;
}

void add_bench_step_commands(CommandLine& cli, CLI::App* bench) {
  auto add = [&](const char* name, const char* what, bool train) {
    auto req = std::make_shared<BenchStepRequest>();
    req->train = train;
    auto* cmd = bench->add_subcommand(name, what);
    cmd->add_option("--config", req->config_path, "Config whose model, optimizer and batch shape are timed")
        ->required()->check(CLI::ExistingFile);
    cmd->add_option("--set", req->overrides, "Override a config key: key.path=value (repeatable)");
    cmd->add_option("--steps", req->steps, "Timed steps (after the warm-up)")->check(kPositive);
    cmd->add_option("--warmup", req->warmup, "Untimed steps first")->check(kNonNegative);
    cmd->add_option("--threads", req->threads, "Threads (0 = the config's)")->check(kNonNegative);
    cmd->add_option("--device", req->device, "cpu | cuda | cuda:N | auto (default: the config's)");
    cmd->add_option("--profile", req->profile_path,
                    "Write LibTorch's operator profile of the timed steps (Chrome trace JSON)");
    cmd->add_flag("--json", req->json, "Print one JSON object (samples_per_sec, sec_per_step, ...)");
    cli.add(cmd, [req] { return run_bench_step(*req); }, /*computes=*/true);
  };
  add("train", "Time training steps (forward, backward, optimizer) of a config on random batches", true);
  add("eval", "Time the forward pass of a config's model on random batches", false);
}

}  // namespace attn
