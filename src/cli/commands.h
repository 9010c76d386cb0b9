// The subcommands behind the command line; each returns the process exit code and throws the
// library's errors (ConfigError, DataError, UsageError, CheckpointError, ...) for main to report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "attn/train/trainer.h"

namespace attn {

int run_train(const TrainRequest& request);

/// `attn launch`: the processes of a data-parallel job on this host (see launch_command.cpp).
struct LaunchRequest {
  int nproc = 2;                         ///< processes on this node
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                   ///< 0: a free port (one node only)
  int timeout = 0;                       ///< seconds; 0: attn's default (ATTN_DIST_TIMEOUT unset)
  int grace = 30;                        ///< seconds between SIGTERM and SIGKILL when stopping ranks
  std::vector<std::string> args;         ///< the attn command each process runs
};
int run_launch(const LaunchRequest& request);

/// Calls f(line, "FILE:N") for every line of `input` (a file, or "-" for standard input), with
/// '\r' stripped; a missing file or invalid UTF-8 is a DataError naming the file (and line).
void for_each_input_line(const std::string& input,
                         const std::function<void(const std::string& line, const std::string& where)>& f);

/// Decoding flags of eval and predict for seq2seq checkpoints; unset values keep the config's.
struct DecodeFlags {
  int64_t beam = 0;             ///< 0 = decode.beam_size
  double length_penalty = -1;   ///< < 0 = decode.length_penalty
  double max_len_a = -1;        ///< < 0 = decode.max_len_a
  int64_t max_len_b = -1;       ///< < 0 = decode.max_len_b
};

struct EvalRequest {
  std::string target;
  std::string data_path;
  std::string target_path;      ///< seq2seq: the reference file of --data
  std::string hyps_path;        ///< seq2seq: write the translations here
  DecodeFlags decode;
  std::string split = "test";
  int64_t max_len = 0;          ///< classify: cut inputs here; 0 = the config's eval length
  std::string attention;
  std::string device;
  std::string precision;  ///< "fp32" | "bf16"; "" = the checkpoint's config.precision
  bool json = false;
};
int run_eval(const EvalRequest& request);

struct PredictRequest {
  std::string target;
  std::string input = "-";
  DecodeFlags decode;
  bool print_alignment = false;  ///< seq2seq: each translation's source-target alignment too
  std::string attention;
  std::string device;
  std::string precision;  ///< "fp32" | "bf16"; "" = the checkpoint's config.precision
  bool json = false;
  // classify: an input FILE.tsv, .csv or .jsonl is a table; its text and id columns (name or
  // index; "" = by name), and whether its first line is a header (auto | true | false)
  std::string text_column, id_column, header = "auto";
};
int run_predict(const PredictRequest& request);

struct BleuRequest {
  std::string hypotheses;
  std::vector<std::string> references;  ///< one or more line-aligned reference files
  bool lowercase = false;
  bool json = false;
};
struct BenchDecodeRequest {
  std::string config_path;
  std::vector<int64_t> lengths = {16, 32, 64, 128};
  int64_t batch = 16;
  int64_t beam = 1;
  int64_t repeats = 3;
  int64_t threads = 0;
  bool cached_only = false;  ///< skip recomputing the prefix (against a baseline's cached decoding)
  bool json = false;
  std::vector<std::string> overrides;  ///< --set key.path=value
};
/// `attn bench decode`: cached against uncached decoding at several output lengths.
int run_bench_decode(const BenchDecodeRequest& request);

struct BenchStepRequest {
  std::string config_path;
  std::vector<std::string> overrides;
  bool train = true;      ///< false: the forward pass of evaluation
  int64_t steps = 20;
  int64_t warmup = 3;
  int64_t threads = 0;    ///< 0 = the config's
  std::string device;     ///< empty = the config's
  std::string profile_path;  ///< non-empty: write LibTorch's operator profile (Chrome trace) here
  bool json = false;
};
/// `attn bench train` / `attn bench eval`: time a config's training step or forward pass.
int run_bench_step(const BenchStepRequest& request);

struct BenchAttentionRequest {
  int64_t length = 1024;
  int64_t batch = 1;
  int64_t d_model = 32;
  int64_t heads = 2;
  bool causal = false;
  std::string kernel = "fused";
  int64_t repeats = 3;
  int64_t warmup = 1;
  int64_t threads = 0;
  bool json = false;
};
/// `attn bench attention`: one multi-head self-attention, forward + backward, with peak memory.
int run_bench_attention(const BenchAttentionRequest& request);

struct BenchMatmulRequest {
  int64_t size = 2048;
  int64_t repeats = 5;
  int64_t threads = 0;
  bool json = false;
};
/// `attn bench matmul`: the machine's float32 matrix product rate, the yardstick for GFLOP/s.
int run_bench_matmul(const BenchMatmulRequest& request);

struct BenchAllreduceRequest {
  double size_mb = 6.5;  ///< the notebook model's gradients are 6.45 MB
  int64_t repeats = 20;
  bool json = false;
};
/// `attn bench allreduce`, under attn launch: the time of the bucketed gradient all-reduce alone
/// (a barrier before each, so that no rank's lateness is counted).
int run_bench_allreduce(const BenchAllreduceRequest& request);

/// `attn bleu`: corpus BLEU of two (or more) line-aligned files, as the sacrebleu command.
int run_bleu(const BleuRequest& request);

/// `attn export`: a checkpoint's weights alone, for other tools (safetensors or PyTorch's format).
struct ExportRequest {
  std::string target;
  std::string format = "safetensors";  ///< safetensors | pytorch
  std::string out;                     ///< empty: RUN/model.safetensors (.pt), or NAME.safetensors beside a file
  bool force = false;                  ///< replace an existing file
};
int run_export(const ExportRequest& request);

/// `attn average`: the mean of the weights of several checkpoints of one model.
struct AverageRequest {
  std::vector<std::string> inputs;  ///< checkpoint files, or run directories (their best.pt)
  int64_t last = 0;                 ///< > 0: the newest N step checkpoints of the one run directory given
  std::string out;                  ///< empty with one run directory: RUN/checkpoints/averaged.pt
  bool force = false;               ///< replace an existing file
};
int run_average(const AverageRequest& request);

/// `attn import`: a classifier's state dict saved by PyTorch (the notebook's names, or attn's)
/// as a new run whose checkpoint the other commands use.
struct ImportRequest {
  std::string state_dict;              ///< torch.save(model.state_dict(), f)
  std::string config;                  ///< the config that describes the model
  std::vector<std::string> overrides;  ///< --set key.path=value
  std::string vocab;                   ///< one token per line, <unk> and <pad> first
  std::string labels;                  ///< comma-separated, in the order of the outputs
  std::string out;                     ///< the new run directory
};
int run_import(const ImportRequest& request);

/// `attn report`: one self-contained report.html of a run.
struct ReportRequest {
  std::string run;
  std::string out;       ///< empty = RUN/report.html
  int64_t samples = 8;   ///< seq2seq: sample translations; classify: examples listed
  int64_t inputs = 3;    ///< inputs in the attention explorer
  std::string device;
};
int run_report(const ReportRequest& request);

/// `attn plot`: training and validation curves of runs, as a PNG or SVG.
struct PlotRequest {
  std::vector<std::string> runs;     ///< run directories or metrics.jsonl files
  std::vector<std::string> metrics;  ///< panels; empty = loss, accuracy, bleu, lr where recorded
  std::string out;                   ///< FILE.png or .svg; empty = RUN/curves.png for one run
};
int run_plot(const PlotRequest& request);

struct InspectRequest {
  std::string target;
  bool json = false;
};
int run_inspect(const InspectRequest& request);

/// `attn show`: attention maps of a checkpoint's model for some inputs.
struct ShowRequest {
  std::string target;
  std::string input;            ///< a text, a file of texts (one per line), or - for standard input
  std::string out;              ///< folder; empty = RUN/show, or NAME-show beside a .pt file
  std::string format = "html";  ///< html (the page), png or svg (a picture per map), json (the maps alone)
  int layer = 0;                ///< png/svg: only this layer (1-based); 0 = all
  int head = 0;                 ///< png/svg: only this head (1-based); 0 = all
  int64_t limit = 20;           ///< show at most this many inputs
  int64_t beam = 0;             ///< seq2seq: the search that makes the translation; 0 = decode.beam_size
  std::string attention;
  std::string device;
  std::string precision;  ///< "fp32" | "bf16"; "" = the checkpoint's config.precision
};
int run_show(const ShowRequest& request);

}  // namespace attn
