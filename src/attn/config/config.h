// The run configuration: typed structs read from JSON once, at the edge, then validated in one
// pass. Every key has a default; an unknown key, a wrong type or an out-of-range value is a
// ConfigError naming the JSON path (e.g. "train.lr_shedule: unknown key; did you mean
// train.lr_schedule?").
//
// A choice with a table in attn/core/choices.h is its enum here, parsed when the JSON is read
// (its names, and the error for any other, come from that table) and written back by name.
//
// This file does not include LibTorch, so that tools reading configs compile quickly.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn/core/choices.h"
#include "attn/core/errors.h"

namespace attn {

/// Configs keep their keys in the documented order (task, data, model, train, ...).
using ConfigJson = nlohmann::ordered_json;

// Wherever a choice meets nlohmann::json (a JSON summary, a metrics record), it is written and
// read by its name, never by its number.
#define ATTN_CHOICE_JSON(E)                                                      \
  template <class J>                                                             \
  void to_json(J& j, const E& e) {                                               \
    j = to_string(e);                                                            \
  }                                                                              \
  template <class J>                                                             \
  void from_json(const J& j, E& e) {                                             \
    e = parse<E>(j.template get<std::string>());                                 \
  }
template <class J>
void to_json(J& j, const DeviceChoice& d) {
  j = to_string(d);
}
template <class J>
void from_json(const J& j, DeviceChoice& d) {
  d = parse_device(j.template get<std::string>());
}
ATTN_CHOICE_JSON(AttentionMode)
ATTN_CHOICE_JSON(HardGradient)
ATTN_CHOICE_JSON(Kernel)
ATTN_CHOICE_JSON(Activation)
ATTN_CHOICE_JSON(Positions)
ATTN_CHOICE_JSON(NormPlacement)
ATTN_CHOICE_JSON(Pooling)
ATTN_CHOICE_JSON(BetaSchedule)
ATTN_CHOICE_JSON(AttentionPlace)
ATTN_CHOICE_JSON(TaskKind)
ATTN_CHOICE_JSON(DataKind)
ATTN_CHOICE_JSON(Tokenization)
ATTN_CHOICE_JSON(SubwordModel)
ATTN_CHOICE_JSON(HeaderLine)
ATTN_CHOICE_JSON(Metric)
ATTN_CHOICE_JSON(OptimizerKind)
ATTN_CHOICE_JSON(LrSchedule)
ATTN_CHOICE_JSON(NonFinite)
ATTN_CHOICE_JSON(Precision)
#undef ATTN_CHOICE_JSON

struct DataConfig {
  /// classify: "retrieval" | "majority" (built-in set tasks) | "imdb" | "tsv" | "csv" | "jsonl";
  /// seq2seq: "sort" | "copy" | "reverse" (built-in) | "parallel" (text files)
  DataKind kind = DataKind::Retrieval;
  std::string path;             ///< IMDB root (holding train/ and test/) or the training (source) file
  std::string target_path;      ///< parallel: the training target file; empty: path is a TSV of pairs
  std::string valid_path;       ///< validation file; empty: take valid_fraction of training data
  std::string valid_target_path;
  std::string test_path;        ///< test file (tsv/jsonl/parallel source); IMDB uses path/test
  std::string test_target_path;
  double valid_fraction = 0.1;  ///< the notebook's 90/10
  /// tsv, csv: "auto" (a first line whose cells name the columns is a header) | "true" | "false"
  HeaderLine header = HeaderLine::Auto;
  /// tsv, csv, jsonl: the text's and the label's column, by name (a JSON key) or 0-based index;
  /// "" = by name in a header (text, sentence, review, ...; label, class, ...), else label 0, text 1
  std::string text_column;
  std::string label_column;
  /// "whitespace" (the notebook) | "words" (punctuation, <br />) | "sentencepiece" (seq2seq)
  Tokenization tokenizer = Tokenization::Whitespace;
  SubwordModel subword_model = SubwordModel::Unigram;  ///< sentencepiece: "unigram" | "bpe"
  bool joint_vocab = true;      ///< seq2seq: one vocabulary for source and target
  bool lowercase = true;
  int64_t ngrams = 1;           ///< classify: 2 adds each pair of neighbouring words as a token
  int64_t vocab_size = 50000;   ///< most frequent training tokens, plus <unk> and <pad>
  int64_t min_freq = 1;
  int64_t max_len = 200;        ///< longer inputs are cut (seq2seq: longer training pairs are dropped)
  int64_t max_target_len = 200; ///< seq2seq: training pairs with a longer target are dropped
  int64_t valid_max_len = 0;    ///< seq2seq: the same for validation, both sides; 0 = keep all
  int64_t eval_max_len = 0;     ///< classify: validation, test, eval and predict inputs are cut here; 0 = max_len
  bool mask_padding = true;     ///< false: the notebook (pads take part in attention and pooling)
  bool fixed_length = false;    ///< pad every batch to max_len (the notebook) instead of its longest
  bool bucket = false;          ///< group inputs of similar length into batches
  // Built-in set tasks, generated from the seed.
  int64_t set_size = 16;        ///< elements per set (retrieval: key-value pairs)
  int64_t symbols = 16;         ///< distinct symbols (majority) or keys/values (retrieval)
  int64_t train_size = 20000;
  int64_t valid_size = 2000;
  int64_t test_size = 2000;
};

/// classify: where validation, test, eval and predict inputs are cut. A set model reads a longer
/// input as more evidence, so it may see more at evaluation than it trained on.
inline int64_t eval_length(const DataConfig& d) { return d.eval_max_len > 0 ? d.eval_max_len : d.max_len; }

struct ModelConfig {
  int64_t d_model = 32;
  int64_t heads = 2;
  int64_t ffn_hidden = 128;
  int64_t layers = 2;
  AttentionMode attention = AttentionMode::Soft;  ///< "soft" | "hard"
  HardGradient hard_gradient = HardGradient::StraightThrough;  ///< "straight_through" | "none"
  double beta = 0;                          ///< inverse temperature (at the start of a beta schedule); 0 = 1/sqrt(d_k)
  BetaSchedule beta_schedule = BetaSchedule::Constant;  ///< "constant" | "linear" | "exponential": beta -> beta_end over the run, in hard_in's places
  double beta_end = 0;                      ///< the last step's beta under a linear or exponential schedule
  /// Where attention is hard when `attention` (or eval's --attention) says "hard": "encoder",
  /// "decoder" (causal self-attention), "cross" (decoder over encoder), "pooling"; the others stay soft.
  std::vector<AttentionPlace> hard_in = {AttentionPlace::Encoder, AttentionPlace::Decoder, AttentionPlace::Cross,
                                         AttentionPlace::Pooling};
  Positions positions = Positions::None;    ///< "sinusoidal" | "learned" | "none" (a true set)
  int64_t decoder_layers = 0;               ///< seq2seq: 0 = as many as the encoder's
  Positions decoder_positions = Positions::Sinusoidal;  ///< seq2seq: the decoder emits a sequence
  bool tie_embeddings = true;               ///< seq2seq: output projection = target embedding
  int64_t max_positions = 10000;
  Pooling pooling = Pooling::Attention;     ///< "max" | "mean" | "attention"
  NormPlacement norm = NormPlacement::Post;  ///< "post" | "pre"
  Activation activation = Activation::ReLU;  ///< "relu" | "gelu"
  double dropout = 0;
  double attention_dropout = 0;
  Kernel attention_kernel = Kernel::Fused;  ///< "fused" (tiled, O(t) memory) | "reference" (plain)
  Kernel ffn_kernel = Kernel::Fused;   ///< "fused" (blocked CPU kernel) | "reference" (two linear layers)
  Kernel norm_kernel = Kernel::Fused;  ///< "fused" (one-pass add & LayerNorm) | "reference" (LibTorch's)
  Kernel loss_kernel = Kernel::Fused;  ///< seq2seq: "fused" (projection + cross-entropy by blocks) | "reference"
};

struct TrainConfig {
  int64_t epochs = 20;
  int64_t max_steps = 0;            ///< stop after this many optimizer steps; 0 = no limit
  int64_t batch_size = 64;
  /// 0: batches of batch_size sets. Else batches of at most this many tokens, padding included
  /// (sets x the longest; a pair counts its longer side), and at most batch_size sets: short
  /// sentences go many to a batch, long ones few (fairseq's --max-tokens).
  int64_t batch_tokens = 0;
  OptimizerKind optimizer = OptimizerKind::AdamW;  ///< "adamw" | "sgd"
  double lr = 1e-3;
  std::vector<double> betas = {0.9, 0.999};
  double weight_decay = 0.01;       ///< LibTorch's AdamW default
  double momentum = 0.9;            ///< sgd only
  LrSchedule schedule = LrSchedule::Constant;  ///< "constant" | "cosine" | "linear" | "inverse_sqrt"
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0;          ///< cosine/linear decay ends at lr * min_lr_ratio
  double clip_grad_norm = 0;        ///< 0 = off
  int64_t grad_accum = 1;
  double label_smoothing = 0;
  int64_t eval_every = 0;           ///< steps between validations; 0 = every epoch
  int64_t log_every = 50;           ///< steps between progress lines and metrics records
  Metric metric = Metric::Accuracy;  ///< "accuracy" | "loss" | seq2seq: "bleu" | "exact_match"; "hard_..."
  int64_t patience = 0;             ///< stop after this many validations without improvement; 0 = off
  int64_t keep_last = 2;            ///< checkpoints kept besides best.pt
  int64_t average_last = 0;         ///< at the end, the mean of the newest N step checkpoints
                                    ///< (checkpoints/averaged.pt), measured beside best.pt; 0 = off
  int64_t save_every = 0;           ///< steps between checkpoints besides validations; 0 = at validations only
  int64_t plot_examples = 2;        ///< at each validation, pictures of the last layer's attention on this
                                    ///< many validation inputs in RUN/attention/step_N/; 0 = none
  NonFinite nonfinite = NonFinite::Stop;  ///< a non-finite loss or gradient: "stop" the run | "skip" the step
};

/// How seq2seq models translate: at test time, in `attn predict` and `attn eval`.
struct DecodeConfig {
  int64_t beam_size = 5;           ///< 1 = greedy
  double length_penalty = 1.0;     ///< beam scores are log p / length^length_penalty
  double max_len_a = 1.5;          ///< output at most a * source length + b tokens
  int64_t max_len_b = 10;
  int64_t batch_size = 64;         ///< sentences decoded together
};

/// The defaults are the embedded default run: the lecture's key-value store (data.kind
/// "retrieval") learnt by a 2-layer set model; configs/ holds the notebook's IMDB run and others.
struct Config {
  TaskKind task = TaskKind::Classify;  ///< "classify" (set to vector) | "seq2seq" (set to set)
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  DecodeConfig decode;
  DeviceChoice device;              ///< "auto" | "cpu" | "cuda" | "cuda:N"
  Precision precision = Precision::Fp32;  ///< "fp32" | "bf16": the large products' arithmetic (choices.h)
  int64_t threads = 0;              ///< 0 = every core
  uint64_t seed = 0;
};

ConfigJson to_json(const Config& config);

/// Reads a config over the defaults: keys not given keep their defaults; unknown keys and
/// wrong types throw ConfigError. Does not validate ranges: call validate().
Config config_from_json(const ConfigJson& j);

/// Checks every range and every combination; throws ConfigError naming the path.
void validate(const Config& config);

/// Applies "key.path=value" overrides to a JSON config (value parsed as JSON, else taken as a
/// string). The path must name a known key.
void apply_override(ConfigJson& j, const std::string& assignment);

/// Reads, overrides and validates a config file; errors name the file.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The paths of every key, e.g. "train.lr", in the order of to_json.
std::vector<std::string> config_keys();

/// The config of a new run: the file (empty: the built-in default run) with overrides, validated.
Config resolve_config(const std::string& config_path, const std::vector<std::string>& overrides);

/// The config a resumed run continues with: the checkpoint's `saved` config, or the file at
/// `config_path` when one is given, with overrides. A resumed run may change how it trains
/// (train.*, decode.*, device, precision, threads), not what it trains or on which data: any other change
/// is a ConfigError naming the key and `checkpoint`. `changed` receives one line per changed
/// setting, "train.lr (0.001 -> 0.0003)", for the log.
Config resume_config(const Config& saved, const std::string& checkpoint, const std::string& config_path,
                     const std::vector<std::string>& overrides, std::vector<std::string>& changed);

}  // namespace attn
