// `attn bench decode`: how much the key/value cache saves. Builds the model a config describes
// (random weights: speed does not depend on them), forbids </s> so that every output runs to
// the asked length, and times greedy (or beam) decoding with the cache and with recomputing
// the whole prefix at every step, at several output lengths.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "attn/core/stopwatch.h"
#include "attn/infer/search.h"
#include "attn/model/build.h"
#include "attn/runtime/runtime.h"
#include "attn/train/trainer.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace attn {

int run_bench_decode(const BenchDecodeRequest& req) {
  const Config cfg = resolve_config(req.config_path, req.overrides);
  if (cfg.task != TaskKind::Seq2Seq) throw UsageError(req.config_path + ": bench decode needs a seq2seq config");
  const KernelScope kernels(kernels_of(cfg.model));
  const int threads = set_threads(req.threads);
  const std::string precision = set_precision(cfg.precision);
  torch::manual_seed(0);
  const int64_t vocab = cfg.data.vocab_size;
  auto model = build_seq2seq(cfg.model, vocab, vocab);
  model->eval();
  {
    torch::NoGradGuard no_grad;
    if (model->generator) model->generator->bias[3].fill_(-1e9);  // no </s>: full-length outputs
    else model->generator_bias[3].fill_(-1e9);
  }
  nlohmann::json rows = nlohmann::json::array();
  if (!req.json)
    std::printf("model %s | %lld parameters | batch %lld | beam %lld | %d threads | %s\n%8s %12s %12s %9s\n",
                req.config_path.c_str(), static_cast<long long>(count_trainable(*model)),
                static_cast<long long>(req.batch), static_cast<long long>(req.beam), threads, precision.c_str(), "length",
                "cached s", "uncached s", "speed-up");
  for (int64_t length : req.lengths) {
    auto src = torch::randint(4, vocab, {req.batch, length});              // (B, S = length)
    SearchOptions o;
    o.beam_size = req.beam;
    o.max_len_a = 0, o.max_len_b = length + 1;                              // length tokens + </s>
    auto time = [&](bool cache) {
      o.use_cache = cache;
      double best = 1e30;
      for (int rep = 0; rep < req.repeats; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = translate(model, src, torch::Tensor(), o);
        best = std::min(best, seconds_since(t0));
        TORCH_CHECK(static_cast<int64_t>(out[0].tokens.size()) == length, "bench: output of the wrong length");
      }
      return best;
    };
    const double cached = time(true);
    nlohmann::json row = {{"length", length}, {"cached_sec", cached}};
    if (!req.cached_only) {
      const double uncached = time(false);
      row["uncached_sec"] = uncached, row["speedup"] = uncached / cached;
      if (!req.json) std::printf("%8lld %12.3f %12.3f %8.1fx\n", static_cast<long long>(length), cached, uncached,
                                 uncached / cached);
    } else if (!req.json) {
      std::printf("%8lld %12.3f\n", static_cast<long long>(length), cached);
    }
    rows.push_back(row);
  }
  if (req.json)
    std::cout << nlohmann::json{{"config", req.config_path}, {"batch", req.batch}, {"beam", req.beam},
                                {"threads", threads}, {"precision", precision}, {"rows", rows}}.dump()
              << "\n";
  return 0;
}

void add_bench_commands(CommandLine& cli) {
  auto* bench = cli.app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);

  auto decode = std::make_shared<BenchDecodeRequest>();
  auto* cmd = bench->add_subcommand(
      "decode", "Time decoding with the key/value cache against recomputing the prefix, per output length");
  cmd->add_option("--config", decode->config_path, "A seq2seq config (its model is built with random weights)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--lengths", decode->lengths, "Output lengths")->delimiter(',');
  cmd->add_option("--batch", decode->batch, "Sentences decoded together")->check(kPositive);
  cmd->add_option("--beam", decode->beam, "Beam size (1 = greedy)")->check(kPositive);
  cmd->add_option("--repeats", decode->repeats, "Timings per point (the fastest is kept)")->check(kPositive);
  cmd->add_option("--threads", decode->threads, "Threads (0 = every core)");
  cmd->add_flag("--cached-only", decode->cached_only, "Time the cached decoding alone");
  cmd->add_option("--set", decode->overrides, "Override a config key: key.path=value (repeatable)");
  cmd->add_flag("--json", decode->json, "Print one JSON object");
  cli.add(cmd, [decode] { return run_bench_decode(*decode); }, /*computes=*/true);

  add_bench_step_commands(cli, bench);  // train, eval

  auto attention = std::make_shared<BenchAttentionRequest>();
  cmd = bench->add_subcommand(
      "attention", "Time one multi-head self-attention forward + backward over a random set; peak memory");
  cmd->add_option("--length", attention->length, "Set size t")->check(kPositive);
  cmd->add_option("--batch", attention->batch, "Sets per call")->check(kPositive);
  cmd->add_option("--d-model", attention->d_model, "Model width")->check(kPositive);
  cmd->add_option("--heads", attention->heads, "Heads")->check(kPositive);
  cmd->add_flag("--causal", attention->causal, "Causal mask (a decoder's self-attention)");
  cmd->add_option("--kernel", attention->kernel, "fused | reference");
  cmd->add_option("--repeats", attention->repeats, "Timed calls (the median is kept)")->check(kPositive);
  cmd->add_option("--warmup", attention->warmup, "Untimed calls first")->check(kNonNegative);
  cmd->add_option("--threads", attention->threads, "Threads (0 = every core)");
  cmd->add_flag("--json", attention->json, "Print one JSON object");
  cli.add(cmd, [attention] { return run_bench_attention(*attention); }, /*computes=*/true);

  auto allreduce = std::make_shared<BenchAllreduceRequest>();
  cmd = bench->add_subcommand("allreduce",
                              "Time the bucketed gradient all-reduce alone; run under attn launch --nproc N");
  cmd->add_option("--size-mb", allreduce->size_mb, "Megabytes of float32 gradients")
      ->capture_default_str()->check(kPositive);
  cmd->add_option("--repeats", allreduce->repeats, "Timed all-reduces")->capture_default_str()->check(kPositive);
  cmd->add_flag("--json", allreduce->json, "Print one JSON object");
  cli.add(cmd, [allreduce] { return run_bench_allreduce(*allreduce); }, /*computes=*/true);

  auto matmul = std::make_shared<BenchMatmulRequest>();
  cmd = bench->add_subcommand("matmul", "The machine's float32 matrix product rate (GFLOP/s)");
  cmd->add_option("--size", matmul->size, "Matrix size n (n x n times n x n)")->check(kPositive);
  cmd->add_option("--repeats", matmul->repeats, "Timed products")->check(kPositive);
  cmd->add_option("--threads", matmul->threads, "Threads (0 = every core)");
  cmd->add_flag("--json", matmul->json, "Print one JSON object");
  cli.add(cmd, [matmul] { return run_bench_matmul(*matmul); }, /*computes=*/true);
}

}  // namespace attn
