// attn: the command line. Each subcommand parses its arguments here and calls the library.
// Exit codes: 0 success, 2 usage, config or input-data errors, 1 run-time failures.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "attn/config/config.h"
#include "attn/core/errors.h"
#include "attn/data/classify/classification_data.h"
#include "attn/data/seq2seq/seq2seq_tasks.h"
#include "attn/io/checkpoint_reader.h"
#include "attn/kernels/blas_core.h"
#include "attn/runtime/runtime.h"
#include "attn/train/trainer.h"
#include "cli/commands.h"

namespace {

// CLI11's PositiveNumber / NonNegativeNumber print their range with the largest double in full
// ("[0 - 1797693134862315708145274237317043567980...]"); these say it in words.
CLI::Validator number_check(const char* words, bool (*ok)(double)) {
  return CLI::Validator(
      [words, ok](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "must be a number; got " + text.substr(0, 40);
        return ok(v) ? std::string() : std::string("must be ") + words + "; got " + text.substr(0, 40);
      },
      words, words);
}
const CLI::Validator kPositive = number_check("positive", [](double v) { return v > 0; });
const CLI::Validator kNonNegative = number_check("0 or more", [](double v) { return v >= 0; });

// `config validate`: the files the data section names are there (training would fail on them later).
void check_data_files(const attn::Config& c) {
  const auto& d = c.data;
  if (attn::is_set_task(d.kind) || attn::is_seq2seq_task(d.kind)) return;  // generated
  const std::pair<const char*, const std::string*> files[] = {
      {"data.path", &d.path},           {"data.target_path", &d.target_path},
      {"data.valid_path", &d.valid_path}, {"data.valid_target_path", &d.valid_target_path},
      {"data.test_path", &d.test_path},   {"data.test_target_path", &d.test_target_path}};
  for (const auto& [key, path] : files) {
    std::error_code ec;
    if (path->empty()) continue;
    if (!std::filesystem::exists(*path, ec))
      throw attn::DataError(std::string(key) + ": " + attn::quote_value(*path) + " does not exist");
    const bool want_dir = d.kind == "imdb" && std::string(key) == "data.path";
    if (want_dir != std::filesystem::is_directory(*path, ec))
      throw attn::DataError(std::string(key) + ": " + attn::quote_value(*path) + " is " +
                            (want_dir ? "not a directory (the IMDB root holds train/ and test/)" : "a directory, not a file"));
  }
}

// The options of every subcommand that runs a checkpoint's model (eval, predict).
void add_model_options(CLI::App* cmd, std::string& attention, std::string& device) {
  cmd->add_option("--attention", attention, "Run with soft or hard attention (default: as trained)")
      ->check(CLI::IsMember(attn::choice_names<attn::AttentionMode>()));
  cmd->add_option("--device", device, "Device (default: the checkpoint's)");
}

// Decoding flags of seq2seq checkpoints (eval, predict); unset ones keep the config's decode.*.
void add_decode_options(CLI::App* cmd, attn::DecodeFlags& f) {
  cmd->add_option("--beam", f.beam, "seq2seq: beam size, 1 = greedy (default: decode.beam_size)")
      ->check(kPositive)->default_str("config");
  cmd->add_option("--length-penalty", f.length_penalty, "seq2seq: score = log p / length^this (default: config)")
      ->check(kNonNegative)->default_str("config");
  cmd->add_option("--max-len-a", f.max_len_a, "seq2seq: output at most a * source length + b tokens (default: config)")
      ->check(kNonNegative)->default_str("config");
  cmd->add_option("--max-len-b", f.max_len_b, "seq2seq: see --max-len-a (default: config)")
      ->check(kPositive)->default_str("config");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attn;
  keep_freed_memory();
  CLI::App app{"attn: train, evaluate and use the Transformer of Canziani's attention lecture\n"
               "(sets in, sets or one vector out; self/cross and hard/soft attention)"};
  app.set_version_flag("--version", versions());
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();

  // Checkpoints older attn wrote are TorchScript archives, whose reader runs code stored in them.
  bool trust_checkpoint = false;
  const char* trust_help = "Open a checkpoint in the TorchScript archive format of older attn versions "
                           "(reading one runs code stored in it: only for files you trust)";

  TrainRequest train_req;
  auto* train_cmd = app.add_subcommand("train", "Train a model from a JSON config (default: the built-in set task)");
  train_cmd->add_option("config", train_req.config_path, "Config file (see `attn config defaults`)")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--set", train_req.overrides, "Override a config key: key.path=value (repeatable)");
  train_cmd->add_option("--out", train_req.out_dir, "Run directory (default: runs/<config name>)");
  train_cmd->add_flag("--resume", train_req.resume, "Continue the run in --out from its newest checkpoint");
  train_cmd->add_flag("--force", train_req.force, "Move an existing run directory aside (to DIR.bak-TIME) and start anew");
  train_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  LaunchRequest launch_req;
  auto* launch_cmd = app.add_subcommand(
      "launch", "Start the processes of a data-parallel run on this host, as torchrun does: "
                "attn launch --nproc 2 -- train CONFIG.json (each gets RANK, WORLD_SIZE, LOCAL_RANK, "
                "MASTER_ADDR, MASTER_PORT)");
  launch_cmd->add_option("--nproc", launch_req.nproc, "Processes on this host")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  launch_cmd->add_option("--nnodes", launch_req.nnodes, "Hosts in the job (start attn launch on each)")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  launch_cmd->add_option("--node-rank", launch_req.node_rank, "This host's index, 0 for the host of rank 0")
      ->capture_default_str()->check(kNonNegative);
  launch_cmd->add_option("--master-addr", launch_req.master_addr, "Address of the host of rank 0")
      ->capture_default_str();
  launch_cmd->add_option("--master-port", launch_req.master_port,
                         "Rendezvous port on that host (0: a free port; one host only)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  launch_cmd->add_option("--timeout", launch_req.timeout,
                         "Seconds to wait for the rendezvous and for any other rank (sets ATTN_DIST_TIMEOUT; "
                         "0: attn's default, 300)")
      ->capture_default_str()->check(kNonNegative);
  launch_cmd->add_option("--grace", launch_req.grace,
                         "Seconds the ranks get to checkpoint and exit when the job stops, before SIGKILL")
      ->capture_default_str()->check(kPositive);
  launch_cmd->add_option("command", launch_req.args, "The attn command every process runs, after --")->required();

  EvalRequest eval_req;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint: loss, accuracy, per-class precision/recall and "
                                      "confusion matrix (classifier); loss, perplexity, BLEU (seq2seq)");
  eval_cmd->add_option("checkpoint", eval_req.target, "Run directory (uses checkpoints/best.pt) or .pt file")->required();
  eval_cmd->add_option("--data", eval_req.data_path,
                       "Data path instead of the one in the checkpoint's config (seq2seq: a source file to translate)");
  eval_cmd->add_option("--target", eval_req.target_path, "seq2seq: the reference translations of --data");
  eval_cmd->add_option("--hyps", eval_req.hyps_path, "seq2seq: write the translations to this file");
  add_decode_options(eval_cmd, eval_req.decode);
  eval_cmd->add_option("--split", eval_req.split, "Split to evaluate")->check(CLI::IsMember({"valid", "test"}));
  eval_cmd->add_option("--max-len", eval_req.max_len,
                       "Classifier: cut inputs at this many tokens (default: the config's data.eval_max_len, "
                       "else data.max_len)")
      ->check(kPositive);
  add_model_options(eval_cmd, eval_req.attention, eval_req.device);
  eval_cmd->add_flag("--json", eval_req.json, "Print one JSON object");
  eval_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  PredictRequest predict_req;
  auto* predict_cmd = app.add_subcommand("predict", "One text per line: label and class probabilities (classifier), "
                                         "or its translation (seq2seq)");
  predict_cmd->add_option("checkpoint", predict_req.target, "Run directory or .pt file")->required();
  predict_cmd->add_option("input", predict_req.input, "Text file, one input per line; - for standard input; "
                                                      "classifier: a FILE.tsv, .csv or .jsonl is a table of inputs");
  predict_cmd->add_option("--text-column", predict_req.text_column, "Table input: the text's column, a name or "
                                                                    "0-based index (default: by name: text, "
                                                                    "sentence, ...; else 0)");
  predict_cmd->add_option("--id-column", predict_req.id_column, "Table input: a column carried to each output line "
                                                                "first (default: by name: id, idx, index, ...)");
  predict_cmd->add_option("--header", predict_req.header, "Table input: is its first line a header")
      ->capture_default_str()->check(CLI::IsMember({"auto", "true", "false"}));
  add_model_options(predict_cmd, predict_req.attention, predict_req.device);
  add_decode_options(predict_cmd, predict_req.decode);
  predict_cmd->add_flag("--json", predict_req.json, "JSON lines instead of TSV (or plain text)");
  predict_cmd->add_flag("--print-alignment", predict_req.print_alignment,
                        "seq2seq: after each translation a tab and its alignment, fairseq's 'S-T' pairs (source "
                        "position S of target token T, by the last layer's cross-attention averaged over heads)");
  predict_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  ShowRequest show_req;
  auto* show_cmd = app.add_subcommand("show", "Attention maps of a checkpoint for some inputs, as a page that "
                                              "opens in a browser or as pictures: every layer and head, labelled "
                                              "with the tokens");
  show_cmd->add_option("checkpoint", show_req.target, "Run directory or .pt file")->required();
  show_cmd->add_option("input", show_req.input, "A text, a file of texts (one per line), or - for standard input")
      ->required();
  show_cmd->add_option("--out", show_req.out, "Output folder (default: RUN/show, or NAME-show beside a .pt file)");
  show_cmd->add_option("--format", show_req.format,
                       "html: one page of every map; png or svg: a picture per map (the heads of a layer side by "
                       "side) and the alignment of a translation; json: the maps alone")
      ->capture_default_str()->check(CLI::IsMember({"html", "png", "svg", "json"}));
  show_cmd->add_option("--layer", show_req.layer, "png/svg: only this layer (1 = the first; the pooling map is "
                                                  "always drawn)")->check(kPositive);
  show_cmd->add_option("--head", show_req.head, "png/svg: only this head (1 = the first), drawn larger")
      ->check(kPositive);
  show_cmd->add_option("--limit", show_req.limit, "Show at most this many inputs")->capture_default_str()->check(kPositive);
  show_cmd->add_option("--beam", show_req.beam, "seq2seq: beam size of the translation shown, 1 = greedy "
                                                "(default: decode.beam_size)")
      ->check(kPositive)->default_str("config");
  add_model_options(show_cmd, show_req.attention, show_req.device);
  show_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  ExportRequest export_req;
  auto* export_cmd = app.add_subcommand("export", "A checkpoint's weights alone (no optimizer state) for other "
                                                  "tools, with a JSON of what is needed to use them");
  export_cmd->add_option("checkpoint", export_req.target, "Run directory or .pt file")->required();
  export_cmd->add_option("--format", export_req.format, "safetensors, or pytorch: a file torch.load(f, "
                                                        "weights_only=True) reads into a dict of tensors")
      ->capture_default_str()->check(CLI::IsMember({"safetensors", "pytorch"}));
  export_cmd->add_option("--out", export_req.out, "Weights file; the JSON goes beside it as NAME.json (default: "
                                                  "RUN/model.safetensors or RUN/model.pt)");
  export_cmd->add_flag("--force", export_req.force, "Replace existing files");
  export_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  AverageRequest average_req;
  auto* average_cmd = app.add_subcommand("average", "A checkpoint whose weights are the mean of several checkpoints "
                                                    "of one model (the last few of a run)");
  average_cmd->add_option("inputs", average_req.inputs, "Checkpoint files or run directories (their best.pt)")
      ->required();
  average_cmd->add_option("--last", average_req.last, "The newest N step checkpoints of the one run directory given")
      ->check(kPositive);
  average_cmd->add_option("--out", average_req.out, "The new checkpoint (default with one run directory: "
                                                    "RUN/checkpoints/averaged.pt)");
  average_cmd->add_flag("--force", average_req.force, "Replace an existing file");
  average_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  ImportRequest import_req;
  auto* import_cmd = app.add_subcommand("import", "A classifier saved by PyTorch (torch.save(model.state_dict(), f), "
                                                  "the notebook's names or attn's) as a new run");
  import_cmd->add_option("state_dict", import_req.state_dict, "The .pt file torch.save wrote")->required()
      ->check(CLI::ExistingFile);
  import_cmd->add_option("--config", import_req.config, "Config that describes the saved model (model.*; data.* "
                                                        "for how eval and predict read text)")
      ->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--set", import_req.overrides, "Override a config key: key.path=value (repeatable)");
  import_cmd->add_option("--vocab", import_req.vocab, "Vocabulary: one token per line, the line number its id, "
                                                      "<unk> and <pad> first")
      ->required()->check(CLI::ExistingFile);
  import_cmd->add_option("--labels", import_req.labels, "Class names in the order of the model's outputs, "
                                                        "comma-separated (e.g. neg,pos)")->required();
  import_cmd->add_option("--out", import_req.out, "The new run directory")->required();

  ReportRequest report_req;
  auto* report_cmd = app.add_subcommand("report", "One self-contained report.html of a run: results, training "
                                                  "curves, confusion matrix or sample translations, examples, an "
                                                  "attention explorer, the config");
  report_cmd->add_option("run", report_req.run, "Run directory")->required();
  report_cmd->add_option("--out", report_req.out, "Output file (default: RUN/report.html)");
  report_cmd->add_option("--samples", report_req.samples, "Examples (sample translations) listed")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  report_cmd->add_option("--inputs", report_req.inputs, "Inputs in the attention explorer")
      ->capture_default_str()->check(kPositive);
  report_cmd->add_option("--device", report_req.device, "cpu, cuda or cuda:N (default: the run's config)");
  report_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  PlotRequest plot_req;
  auto* plot_cmd = app.add_subcommand("plot", "Training and validation curves of one or more runs against the "
                                              "step, as a PNG or SVG (several runs overlaid)");
  plot_cmd->add_option("runs", plot_req.runs, "Run directories (or metrics.jsonl files)")->required();
  plot_cmd->add_option("--metric", plot_req.metrics, "The panels, comma-separated: loss, accuracy, bleu, lr, "
                                                     "perplexity, ... (default: those of loss, accuracy, bleu, lr "
                                                     "that the runs recorded)")
      ->delimiter(',');
  plot_cmd->add_option("--out", plot_req.out, "FILE.png or FILE.svg (default for one run: RUN/curves.png)");

  BleuRequest bleu_req;
  auto* bleu_cmd = app.add_subcommand("bleu", "Corpus BLEU of line-aligned files, as sacreBLEU's default "
                                              "(13a tokenization, exp smoothing, case-sensitive)");
  bleu_cmd->add_option("hypotheses", bleu_req.hypotheses, "System output, one sentence per line (.gz works; - = stdin)")
      ->required();
  bleu_cmd->add_option("references", bleu_req.references, "Reference file(s), line-aligned with the hypotheses")
      ->required();
  bleu_cmd->add_flag("--lowercase,-l", bleu_req.lowercase, "Lower-case both sides first (sacreBLEU -lc)");
  bleu_cmd->add_flag("--json", bleu_req.json, "Print one JSON object");

  InspectRequest inspect_req;
  auto* inspect_cmd = app.add_subcommand("inspect", "Show a checkpoint: config, sizes, step, metrics, versions");
  inspect_cmd->add_option("checkpoint", inspect_req.target, "Run directory or .pt file")->required();
  inspect_cmd->add_flag("--json", inspect_req.json, "Print one JSON object");
  inspect_cmd->add_flag("--trust-checkpoint", trust_checkpoint, trust_help);

  auto* bench_cmd = app.add_subcommand("bench", "Benchmarks");
  bench_cmd->require_subcommand(1);
  BenchDecodeRequest bench_decode_req;
  auto* bench_decode_cmd = bench_cmd->add_subcommand(
      "decode", "Time decoding with the key/value cache against recomputing the prefix, per output length");
  bench_decode_cmd->add_option("--config", bench_decode_req.config_path, "A seq2seq config (its model is built with random weights)")
      ->required()->check(CLI::ExistingFile);
  bench_decode_cmd->add_option("--lengths", bench_decode_req.lengths, "Output lengths")->delimiter(',');
  bench_decode_cmd->add_option("--batch", bench_decode_req.batch, "Sentences decoded together")->check(kPositive);
  bench_decode_cmd->add_option("--beam", bench_decode_req.beam, "Beam size (1 = greedy)")->check(kPositive);
  bench_decode_cmd->add_option("--repeats", bench_decode_req.repeats, "Timings per point (the fastest is kept)")
      ->check(kPositive);
  bench_decode_cmd->add_option("--threads", bench_decode_req.threads, "Threads (0 = every core)");
  bench_decode_cmd->add_flag("--cached-only", bench_decode_req.cached_only, "Time the cached decoding alone");
  bench_decode_cmd->add_flag("--json", bench_decode_req.json, "Print one JSON object");

  BenchStepRequest bench_train_req, bench_eval_req;
  bench_eval_req.train = false;
  auto add_step_bench = [&](const char* name, const char* what, BenchStepRequest& r) {
    auto* cmd = bench_cmd->add_subcommand(name, what);
    cmd->add_option("--config", r.config_path, "Config whose model, optimizer and batch shape are timed")
        ->required()->check(CLI::ExistingFile);
    cmd->add_option("--set", r.overrides, "Override a config key: key.path=value (repeatable)");
    cmd->add_option("--steps", r.steps, "Timed steps (after the warm-up)")->check(kPositive);
    cmd->add_option("--warmup", r.warmup, "Untimed steps first")->check(kNonNegative);
    cmd->add_option("--threads", r.threads, "Threads (0 = the config's)")->check(kNonNegative);
    cmd->add_option("--device", r.device, "cpu | cuda | cuda:N | auto (default: the config's)");
    cmd->add_option("--profile", r.profile_path, "Write LibTorch's operator profile of the timed steps (Chrome trace JSON)");
    cmd->add_flag("--json", r.json, "Print one JSON object (samples_per_sec, sec_per_step, ...)");
    return cmd;
  };
  auto* bench_train_cmd = add_step_bench(
      "train", "Time training steps (forward, backward, optimizer) of a config on random batches", bench_train_req);
  auto* bench_eval_cmd =
      add_step_bench("eval", "Time the forward pass of a config's model on random batches", bench_eval_req);

  BenchAttentionRequest bench_att_req;
  auto* bench_att_cmd = bench_cmd->add_subcommand(
      "attention", "Time one multi-head self-attention forward + backward over a random set; peak memory");
  bench_att_cmd->add_option("--length", bench_att_req.length, "Set size t")->check(kPositive);
  bench_att_cmd->add_option("--batch", bench_att_req.batch, "Sets per call")->check(kPositive);
  bench_att_cmd->add_option("--d-model", bench_att_req.d_model, "Model width")->check(kPositive);
  bench_att_cmd->add_option("--heads", bench_att_req.heads, "Heads")->check(kPositive);
  bench_att_cmd->add_flag("--causal", bench_att_req.causal, "Causal mask (a decoder's self-attention)");
  bench_att_cmd->add_option("--kernel", bench_att_req.kernel, "fused | reference");
  bench_att_cmd->add_option("--repeats", bench_att_req.repeats, "Timed calls (the median is kept)")
      ->check(kPositive);
  bench_att_cmd->add_option("--warmup", bench_att_req.warmup, "Untimed calls first")->check(kNonNegative);
  bench_att_cmd->add_option("--threads", bench_att_req.threads, "Threads (0 = every core)");
  bench_att_cmd->add_flag("--json", bench_att_req.json, "Print one JSON object");

  BenchAllreduceRequest bench_ar_req;
  auto* bench_ar_cmd = bench_cmd->add_subcommand(
      "allreduce", "Time the bucketed gradient all-reduce alone; run under attn launch --nproc N");
  bench_ar_cmd->add_option("--size-mb", bench_ar_req.size_mb, "Megabytes of float32 gradients")
      ->capture_default_str()->check(kPositive);
  bench_ar_cmd->add_option("--repeats", bench_ar_req.repeats, "Timed all-reduces")
      ->capture_default_str()->check(kPositive);
  bench_ar_cmd->add_flag("--json", bench_ar_req.json, "Print one JSON object");

  BenchMatmulRequest bench_mm_req;
  auto* bench_mm_cmd = bench_cmd->add_subcommand("matmul", "The machine's float32 matrix product rate (GFLOP/s)");
  bench_mm_cmd->add_option("--size", bench_mm_req.size, "Matrix size n (n x n times n x n)")->check(kPositive);
  bench_mm_cmd->add_option("--repeats", bench_mm_req.repeats, "Timed products")->check(kPositive);
  bench_mm_cmd->add_option("--threads", bench_mm_req.threads, "Threads (0 = every core)");
  bench_mm_cmd->add_flag("--json", bench_mm_req.json, "Print one JSON object");

  auto* config_cmd = app.add_subcommand("config", "Print the default config, or validate a config file");
  config_cmd->require_subcommand(1);
  config_cmd->add_subcommand("defaults", "Print the complete default config (the built-in default run)");
  std::string validate_path;
  std::vector<std::string> validate_overrides;
  auto* validate_cmd = config_cmd->add_subcommand("validate", "Check a config file and its overrides");
  validate_cmd->add_option("config", validate_path, "Config file")->required();
  validate_cmd->add_option("--set", validate_overrides, "Override a config key: key.path=value (repeatable)");
  bool validate_skip_data = false;
  validate_cmd->add_flag("--skip-data", validate_skip_data, "Check the config alone, not that its data files exist");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  trust_archive_checkpoints(trust_checkpoint);
  try {
    // Commands that compute run on the best BLAS kernel this CPU has: this may re-execute attn
    // once (OpenBLAS picks its kernels as it loads), before anything is read or written.
    if (*train_cmd || *eval_cmd || *predict_cmd || *show_cmd || *bench_cmd) kernels::use_best_blas_core(argv);
    if (*train_cmd) return run_train(train_req);
    if (*launch_cmd) return run_launch(launch_req);
    if (*eval_cmd) return run_eval(eval_req);
    if (*predict_cmd) return run_predict(predict_req);
    if (*inspect_cmd) return run_inspect(inspect_req);
    if (*show_cmd) return run_show(show_req);
    if (*bleu_cmd) return run_bleu(bleu_req);
    if (*plot_cmd) return run_plot(plot_req);
    if (*report_cmd) return run_report(report_req);
    if (*export_cmd) return run_export(export_req);
    if (*import_cmd) return run_import(import_req);
    if (*average_cmd) return run_average(average_req);
    if (*bench_decode_cmd) return run_bench_decode(bench_decode_req);
    if (*bench_train_cmd) return run_bench_step(bench_train_req);
    if (*bench_eval_cmd) return run_bench_step(bench_eval_req);
    if (*bench_att_cmd) return run_bench_attention(bench_att_req);
    if (*bench_mm_cmd) return run_bench_matmul(bench_mm_req);
    if (*bench_ar_cmd) return run_bench_allreduce(bench_ar_req);
    if (config_cmd->got_subcommand("defaults")) {
      std::cout << to_json(Config{}).dump(2) << "\n";
      return 0;
    }
    if (*validate_cmd) {
      const Config c = load_config(validate_path, validate_overrides);
      if (!validate_skip_data) check_data_files(c);
      std::cout << validate_path << ": ok\n";
      return 0;
    }
  } catch (const Error& e) {  // attn's own: usage, config, data, checkpoint, launch, distributed
    const std::string label = e.label();
    std::cerr << "attn: " << (label.empty() ? "" : label + ": ") << e.what() << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "attn: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attn: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
