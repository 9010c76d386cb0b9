#include "attn/config/config.h"

#include "attn/core/choices.h"
#include "attn/core/utf8.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace attn {

using json = ConfigJson;

namespace {

// Every key of every section, listed once; the writers, readers and key lists below walk it.
template <class V>
void visit(DataConfig& c, V&& v) {
  v("kind", c.kind), v("path", c.path), v("target_path", c.target_path);
  v("valid_path", c.valid_path), v("valid_target_path", c.valid_target_path);
  v("test_path", c.test_path), v("test_target_path", c.test_target_path);
  v("valid_fraction", c.valid_fraction), v("header", c.header), v("text_column", c.text_column);
  v("label_column", c.label_column), v("tokenizer", c.tokenizer);
  v("subword_model", c.subword_model), v("joint_vocab", c.joint_vocab), v("lowercase", c.lowercase);
  v("ngrams", c.ngrams);
  v("vocab_size", c.vocab_size), v("min_freq", c.min_freq), v("max_len", c.max_len);
  v("max_target_len", c.max_target_len), v("valid_max_len", c.valid_max_len);
  v("eval_max_len", c.eval_max_len);
  v("mask_padding", c.mask_padding), v("fixed_length", c.fixed_length), v("bucket", c.bucket);
  v("set_size", c.set_size), v("symbols", c.symbols), v("train_size", c.train_size);
  v("valid_size", c.valid_size), v("test_size", c.test_size);
}

template <class V>
void visit(ModelConfig& c, V&& v) {
  v("d_model", c.d_model), v("heads", c.heads), v("ffn_hidden", c.ffn_hidden), v("layers", c.layers);
  v("attention", c.attention), v("hard_gradient", c.hard_gradient), v("hard_in", c.hard_in);
  v("beta", c.beta), v("beta_schedule", c.beta_schedule), v("beta_end", c.beta_end);
  v("positions", c.positions), v("max_positions", c.max_positions), v("pooling", c.pooling);
  v("decoder_layers", c.decoder_layers), v("decoder_positions", c.decoder_positions);
  v("tie_embeddings", c.tie_embeddings);
  v("norm", c.norm), v("activation", c.activation), v("dropout", c.dropout);
  v("attention_dropout", c.attention_dropout), v("attention_kernel", c.attention_kernel);
  v("ffn_kernel", c.ffn_kernel), v("norm_kernel", c.norm_kernel), v("loss_kernel", c.loss_kernel);
}

template <class V>
void visit(TrainConfig& c, V&& v) {
  v("epochs", c.epochs), v("max_steps", c.max_steps), v("batch_size", c.batch_size);
  v("batch_tokens", c.batch_tokens), v("optimizer", c.optimizer), v("lr", c.lr), v("betas", c.betas), v("weight_decay", c.weight_decay);
  v("momentum", c.momentum), v("schedule", c.schedule), v("warmup_steps", c.warmup_steps);
  v("min_lr_ratio", c.min_lr_ratio), v("clip_grad_norm", c.clip_grad_norm);
  v("grad_accum", c.grad_accum), v("label_smoothing", c.label_smoothing);
  v("eval_every", c.eval_every), v("log_every", c.log_every), v("metric", c.metric);
  v("patience", c.patience), v("keep_last", c.keep_last), v("average_last", c.average_last);
  v("save_every", c.save_every);
  v("nonfinite", c.nonfinite), v("plot_examples", c.plot_examples);
}

template <class V>
void visit(DecodeConfig& c, V&& v) {
  v("beam_size", c.beam_size), v("length_penalty", c.length_penalty), v("max_len_a", c.max_len_a);
  v("max_len_b", c.max_len_b), v("batch_size", c.batch_size);
}

template <class V>
void visit(Config& c, V&& v) {
  v("task", c.task);
  v.section("data", c.data);
  v.section("model", c.model);
  v.section("train", c.train);
  v.section("decode", c.decode);
  v("device", c.device), v("precision", c.precision), v("threads", c.threads), v("seed", c.seed);
}

struct Writer {
  json& j;
  template <class T>
  void operator()(const char* key, T& value) {
    j[key] = value;  // a choice, or a list of them, by name (config.h's to_json)
  }
  template <class S>
  void section(const char* key, S& s) {
    json& sub = j[key] = json::object();
    visit(s, Writer{sub});
  }
};

struct KeyLister {
  std::string prefix;
  std::vector<std::string>& out;
  template <class T>
  void operator()(const char* key, T&) { out.push_back(prefix + key); }
  template <class S>
  void section(const char* key, S& s) {
    out.push_back(prefix + key);
    visit(s, KeyLister{prefix + key + ".", out});
  }
};

std::string type_name(const json& j) {
  if (j.is_string()) return "a string (" + j.dump(-1, ' ', false, json::error_handler_t::replace) + ")";
  if (j.is_boolean()) return "a boolean (" + j.dump(-1, ' ', false, json::error_handler_t::replace) + ")";
  if (j.is_number()) return "a number (" + j.dump(-1, ' ', false, json::error_handler_t::replace) + ")";
  if (j.is_null()) return "null";
  if (j.is_array()) return "an array";
  return "an object";
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "unknown key" with the closest known key of the same section, when one is close enough.
[[noreturn]] void unknown_key(const std::string& path, const std::string& prefix,
                              const std::vector<std::string>& known) {
  const std::string key = path.substr(prefix.size());
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& k : known) {
    const size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  std::string msg = path + ": unknown key";
  if (!best.empty() && best_d <= std::max<size_t>(2, key.size() / 2))
    msg += "; did you mean " + prefix + best + "?";
  else
    msg += "; known keys here: " + [&] {
      std::string s;
      for (const auto& k : known) s += (s.empty() ? "" : ", ") + k;
      return s;
    }();
  throw ConfigError(msg);
}

void check_choice(const std::string& path, const std::string& value, const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
  throw ConfigError(path + ": must be one of " + list + "; got " + quote_value(value));
}

struct Reader {
  const json& j;
  std::string prefix;  // "" or "train."

  void read(const json& v, const std::string& path, std::string& out) {
    if (!v.is_string()) throw ConfigError(path + ": expected a string, got " + type_name(v));
    out = v.get<std::string>();
  }
  void read(const json& v, const std::string& path, bool& out) {
    if (!v.is_boolean()) throw ConfigError(path + ": expected true or false, got " + type_name(v));
    out = v.get<bool>();
  }
  void read(const json& v, const std::string& path, int64_t& out) {
    if (!v.is_number_integer())
      throw ConfigError(path + ": expected an integer, got " + type_name(v));
    out = v.get<int64_t>();
  }
  void read(const json& v, const std::string& path, uint64_t& out) {
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
      throw ConfigError(path + ": expected a non-negative integer, got " + type_name(v));
    out = v.get<uint64_t>();
  }
  void read(const json& v, const std::string& path, double& out) {
    if (!v.is_number()) throw ConfigError(path + ": expected a number, got " + type_name(v));
    out = v.get<double>();
  }
  void read(const json& v, const std::string& path, std::vector<double>& out) {
    if (!v.is_array()) throw ConfigError(path + ": expected an array of numbers, got " + type_name(v));
    out.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      double x;
      read(v[i], path + "[" + std::to_string(i) + "]", x);
      out.push_back(x);
    }
  }

  void read(const json& v, const std::string& path, DeviceChoice& out) {
    std::string name;
    read(v, path, name);
    try {
      out = parse_device(name);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(path + ": " + e.what());
    }
  }
  template <class E, class = std::enable_if_t<is_choice<E>::value>>
  void read(const json& v, const std::string& path, E& out) {
    std::string name;
    read(v, path, name);
    for (const auto& [value, n] : choices<E>().names)
      if (name == n) {
        out = value;
        return;
      }
    check_choice(path, name, choice_names<E>());  // throws: not one of the names
  }

  template <class E, class = std::enable_if_t<is_choice<E>::value>>
  void read(const json& v, const std::string& path, std::vector<E>& out) {
    if (v.is_string())  // --set model.hard_in=cross
      throw ConfigError(path + ": expected an array of strings, got " + type_name(v) + "; write [" + v.dump() + "]");
    if (!v.is_array()) throw ConfigError(path + ": expected an array of strings, got " + type_name(v));
    out.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      E x;
      read(v[i], path + "[" + std::to_string(i) + "]", x);
      out.push_back(x);
    }
  }

  template <class T>
  void operator()(const char* key, T& value) {
    if (auto it = j.find(key); it != j.end()) read(*it, prefix + key, value);
  }
  template <class S>
  void section(const char* key, S& s) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (!it->is_object())
      throw ConfigError(prefix + key + ": expected an object, got " + type_name(*it));
    read_object(*it, prefix + key + ".", s);
  }
  template <class S>
  static void read_object(const json& obj, const std::string& prefix, S& s) {
    std::vector<std::string> known;
    visit(s, KeyLister{"", known});
    for (const auto& item : obj.items())
      if (std::find(known.begin(), known.end(), item.key()) == known.end())
        unknown_key(prefix + item.key(), prefix, known);
    visit(s, Reader{obj, prefix});
  }
};

template <class T>
void check(bool ok, const std::string& path, T value, const std::string& allowed) {
  if (ok) return;
  std::ostringstream s;
  s << path << ": must be " << allowed << "; got " << value;
  throw ConfigError(s.str());
}

}  // namespace

json to_json(const Config& config) {
  json j = json::object();
  Config copy = config;
  visit(copy, Writer{j});
  return j;
}

Config config_from_json(const json& j) {
  if (!j.is_object()) throw ConfigError("the config must be a JSON object, got " + type_name(j));
  Config c;
  Reader::read_object(j, "", c);
  return c;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys;
  Config c;
  visit(c, KeyLister{"", keys});
  return keys;
}

void validate(const Config& c) {
  const bool seq2seq = c.task == TaskKind::Seq2Seq;
  const auto& d = c.data;
  if (seq2seq) check_choice("data.kind", to_string(d.kind), {"sort", "copy", "reverse", "parallel"});
  else check_choice("data.kind", to_string(d.kind), {"majority", "retrieval", "imdb", "tsv", "csv", "jsonl"});
  if (!is_generated(d.kind) && d.path.empty())
    throw ConfigError("data.path: data.kind \"" + to_string(d.kind) +
                      "\" reads files, so data.path must name them (e.g. --set data.path=DIR)");
  check(d.valid_fraction > 0 && d.valid_fraction < 1, "data.valid_fraction", d.valid_fraction,
        "in (0, 1)");
  if (!seq2seq) check_choice("data.tokenizer", to_string(d.tokenizer), {"whitespace", "words"});
  if (d.kind == DataKind::Parallel) {
    if (d.valid_path.empty() != d.valid_target_path.empty() && !d.target_path.empty())
      throw ConfigError("data.valid_target_path: give both data.valid_path and data.valid_target_path, or neither");
    if (!d.test_path.empty() && !d.target_path.empty() && d.test_target_path.empty())
      throw ConfigError("data.test_target_path: data.test_path needs its target file too");
  }
  check(d.vocab_size > 0, "data.vocab_size", d.vocab_size, "positive");
  check(d.min_freq >= 1, "data.min_freq", d.min_freq, "at least 1");
  check(d.ngrams == 1 || d.ngrams == 2, "data.ngrams", d.ngrams, "1 (words) or 2 (words and bigrams)");
  if (seq2seq && d.ngrams != 1)
    throw ConfigError("data.ngrams: bigram tokens are for classifiers; seq2seq needs 1, got " + std::to_string(d.ngrams));
  check(d.max_len > 0, "data.max_len", d.max_len, "positive");
  check(d.max_target_len > 0, "data.max_target_len", d.max_target_len, "positive");
  check(d.valid_max_len >= 0, "data.valid_max_len", d.valid_max_len, "0 (keep all) or positive");
  check(d.eval_max_len >= 0, "data.eval_max_len", d.eval_max_len, "0 (as data.max_len) or positive");
  if (seq2seq && d.eval_max_len != 0)
    throw ConfigError("data.eval_max_len: for classifiers (seq2seq uses data.valid_max_len); got " +
                      std::to_string(d.eval_max_len));
  if (d.fixed_length && d.eval_max_len != 0 && d.eval_max_len != d.max_len)
    throw ConfigError("data.eval_max_len: data.fixed_length pads every batch to data.max_len (" +
                      std::to_string(d.max_len) + "), so eval_max_len must be 0 or the same; got " +
                      std::to_string(d.eval_max_len));
  check(d.set_size >= 2, "data.set_size", d.set_size, "at least 2");
  check(d.symbols >= 2, "data.symbols", d.symbols, "at least 2");
  if (d.kind == DataKind::Retrieval && d.set_size > d.symbols)  // its keys are distinct symbols
    throw ConfigError("data.set_size: the retrieval task's keys are distinct symbols, so at most data.symbols (" +
                      std::to_string(d.symbols) + "); got " + std::to_string(d.set_size));
  check(d.train_size > 0, "data.train_size", d.train_size, "positive");
  check(d.valid_size > 0, "data.valid_size", d.valid_size, "positive");
  check(d.test_size > 0, "data.test_size", d.test_size, "positive");

  const auto& m = c.model;
  check(m.d_model > 0, "model.d_model", m.d_model, "positive");
  check(m.heads > 0, "model.heads", m.heads, "positive");
  if (m.d_model % m.heads != 0)
    throw ConfigError("model.heads: must divide model.d_model (" + std::to_string(m.d_model) +
                      "); got " + std::to_string(m.heads));
  check(m.ffn_hidden > 0, "model.ffn_hidden", m.ffn_hidden, "positive");
  check(m.layers > 0, "model.layers", m.layers, "positive");
  if (m.hard_in.empty())
    throw ConfigError("model.hard_in: names no attention; give one or more of " +
                      quoted_list(choice_names<AttentionPlace>()));
  check(m.beta >= 0 && std::isfinite(m.beta), "model.beta", m.beta, "0 (meaning 1/sqrt(d_k)) or positive");
  check(m.beta_schedule == BetaSchedule::Constant || (m.beta_end > 0 && std::isfinite(m.beta_end)), "model.beta_end", m.beta_end,
        "the last beta of beta_schedule \"" + to_string(m.beta_schedule) + "\", a positive number (e.g. 20)");
  check(m.max_positions > 0, "model.max_positions", m.max_positions, "positive");
  if (m.positions != Positions::None && m.max_positions < d.max_len)
    throw ConfigError("model.max_positions: must be at least data.max_len (" +
                      std::to_string(d.max_len) + "); got " + std::to_string(m.max_positions));
  if (m.positions != Positions::None && m.max_positions < d.eval_max_len)
    throw ConfigError("model.max_positions: must be at least data.eval_max_len (" +
                      std::to_string(d.eval_max_len) + "); got " + std::to_string(m.max_positions));
  check(m.decoder_layers >= 0, "model.decoder_layers", m.decoder_layers, "0 (as the encoder) or positive");
  check(m.dropout >= 0 && m.dropout < 1, "model.dropout", m.dropout, "in [0, 1)");
  check(m.attention_dropout >= 0 && m.attention_dropout < 1, "model.attention_dropout",
        m.attention_dropout, "in [0, 1)");

  const auto& t = c.train;
  check(t.epochs > 0, "train.epochs", t.epochs, "positive");
  check(t.max_steps >= 0, "train.max_steps", t.max_steps, "0 (no limit) or positive");
  check(t.batch_size > 0, "train.batch_size", t.batch_size, "positive");
  check(t.batch_tokens >= 0, "train.batch_tokens", t.batch_tokens, "0 (batches of batch_size sets) or positive");
  if (t.batch_tokens > 0 && c.data.fixed_length)
    throw ConfigError("train.batch_tokens: counts each batch's longest set, but data.fixed_length pads every set "
                      "to data.max_len; set one of them only");
  check(t.lr > 0, "train.lr", t.lr, "positive");
  if (t.betas.size() != 2 || !(t.betas[0] >= 0 && t.betas[0] < 1) || !(t.betas[1] >= 0 && t.betas[1] < 1))
    throw ConfigError("train.betas: must be two numbers in [0, 1); got " + json(t.betas).dump());
  check(t.weight_decay >= 0, "train.weight_decay", t.weight_decay, "at least 0");
  check(t.momentum >= 0 && t.momentum < 1, "train.momentum", t.momentum, "in [0, 1)");
  check(t.warmup_steps >= 0, "train.warmup_steps", t.warmup_steps, "at least 0");
  if (t.schedule == LrSchedule::InverseSqrt && t.warmup_steps == 0)
    throw ConfigError("train.warmup_steps: the inverse_sqrt schedule needs warmup_steps > 0; got 0");
  check(t.min_lr_ratio >= 0 && t.min_lr_ratio <= 1, "train.min_lr_ratio", t.min_lr_ratio, "in [0, 1]");
  check(t.clip_grad_norm >= 0, "train.clip_grad_norm", t.clip_grad_norm, "0 (off) or positive");
  check(t.grad_accum >= 1, "train.grad_accum", t.grad_accum, "at least 1");
  check(t.label_smoothing >= 0 && t.label_smoothing < 1, "train.label_smoothing", t.label_smoothing,
        "in [0, 1)");
  check(t.eval_every >= 0, "train.eval_every", t.eval_every, "0 (every epoch) or positive");
  check(t.log_every > 0, "train.log_every", t.log_every, "positive");
  {  // each metric also measured with hard attention (model.hard_in): "hard_accuracy"
    std::vector<std::string> metrics = {"accuracy", "loss"};
    if (seq2seq) metrics.insert(metrics.end(), {"bleu", "exact_match"});
    for (size_t i = 0, n = metrics.size(); i < n; ++i) metrics.push_back("hard_" + metrics[i]);
    check_choice("train.metric", to_string(t.metric), metrics);
  }
  check(t.patience >= 0, "train.patience", t.patience, "0 (off) or positive");
  check(t.keep_last >= 1, "train.keep_last", t.keep_last, "at least 1");
  check(t.average_last == 0 || (t.average_last >= 2 && t.average_last <= t.keep_last), "train.average_last",
        t.average_last, "0 (off) or 2 to train.keep_last (" + std::to_string(t.keep_last) + ", the step checkpoints a run keeps)");
  check(t.save_every >= 0, "train.save_every", t.save_every, "0 (at validations only) or positive");
  check(t.plot_examples >= 0, "train.plot_examples", t.plot_examples, "0 (no pictures) or positive");

  const auto& dc = c.decode;
  check(dc.beam_size >= 1, "decode.beam_size", dc.beam_size, "at least 1 (1 = greedy)");
  check(dc.length_penalty >= 0, "decode.length_penalty", dc.length_penalty, "at least 0");
  check(dc.max_len_a >= 0, "decode.max_len_a", dc.max_len_a, "at least 0");
  check(dc.max_len_b >= 1, "decode.max_len_b", dc.max_len_b, "at least 1");
  check(dc.batch_size >= 1, "decode.batch_size", dc.batch_size, "at least 1");

  check(c.threads >= 0, "threads", c.threads, "0 (every core) or positive");
  // More threads than cores only queue; thousands make LibTorch's pool wait for minutes.
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  check(c.threads <= 4 * cores, "threads", c.threads,
        "at most 4 x this machine's " + std::to_string(cores) + " cores (" + std::to_string(4 * cores) +
            "); 0 uses every core");
}

void apply_override(json& j, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected key.path=value, e.g. train.lr=3e-4");
  if (!j.is_object()) throw ConfigError("a config is a JSON object ({...}); got " + type_name(j));
  size_t bad = 0;
  if (!valid_utf8(assignment, &bad))
    throw ConfigError("--set: not valid UTF-8 (byte " + std::to_string(bad) + " of the override)");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const auto keys = config_keys();
  if (std::find(keys.begin(), keys.end(), path) == keys.end()) {
    // Suggest among the keys of the same section, as for a config file.
    const auto dot = path.rfind('.');
    const std::string prefix = dot == std::string::npos ? "" : path.substr(0, dot + 1);
    std::vector<std::string> siblings;
    for (const auto& k : keys)
      if (k.rfind(prefix, 0) == 0 && k.find('.', prefix.size()) == std::string::npos)
        siblings.push_back(k.substr(prefix.size()));
    // "train.lr.x": a path through a setting, which has no keys below it.
    auto is_section = [&](const std::string& k) {
      return std::any_of(keys.begin(), keys.end(), [&](const std::string& o) { return o.rfind(k + ".", 0) == 0; });
    };
    for (const auto& k : keys)
      if (path.rfind(k + ".", 0) == 0 && !is_section(k))
        throw ConfigError("--set " + quote_value(path, 80) + ": " + k + " is a setting, not a section; e.g. --set " +
                          k + "=" + (text.size() <= 40 ? text : std::string("VALUE")));
    if (siblings.empty()) {  // an unknown section: name the sections there are
      std::vector<std::string> sections;
      for (const auto& k : keys) {
        const auto top = k.substr(0, k.find('.'));
        if (std::find(sections.begin(), sections.end(), top) == sections.end()) sections.push_back(top);
      }
      siblings = sections;
      try {
        unknown_key(path.substr(0, path.find('.')), "", siblings);
      } catch (const ConfigError& e) {
        throw ConfigError(std::string("--set ") + e.what());
      }
    }
    try {
      unknown_key(path, prefix, siblings);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string("--set ") + e.what());
    }
  }
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // a bare word is a string: --set model.attention=hard
  json* node = &j;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
    node = &(*node)[path.substr(start, dot - start)];
    if (!node->is_object()) *node = json::object();
  }
  (*node)[path.substr(start)] = value;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": is a directory; give a config file (e.g. configs/imdb.json, or a run's config.json)");
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the config file (does it exist?)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {  // parse errors, and numbers too large for a double
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
  try {
    for (const auto& o : overrides) apply_override(j, o);
    Config c = config_from_json(j);
    validate(c);
    return c;
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

Config resolve_config(const std::string& config_path, const std::vector<std::string>& overrides) {
  if (!config_path.empty()) return load_config(config_path, overrides);
  json j = to_json(Config{});
  for (const auto& o : overrides) apply_override(j, o);
  Config c = config_from_json(j);
  validate(c);
  return c;
}

namespace {

// Keys that a resumed run may change: how to train, not what is trained or on which data.
bool may_change_on_resume(const std::string& pointer) {
  return pointer.rfind("/train/", 0) == 0 || pointer.rfind("/decode/", 0) == 0 || pointer == "/device" ||
         pointer == "/precision" || pointer == "/threads";
}

}  // namespace

Config resume_config(const Config& saved, const std::string& checkpoint, const std::string& config_path,
                     const std::vector<std::string>& overrides, std::vector<std::string>& changed) {
  Config c;
  if (config_path.empty()) {
    json j = to_json(saved);
    for (const auto& o : overrides) apply_override(j, o);
    c = config_from_json(j);
    validate(c);
  } else {
    c = load_config(config_path, overrides);
  }
  // Each leaf where the two differ: "train.lr (0.001 -> 0.0003)".
  const auto a = to_json(saved).flatten(), b = to_json(c).flatten();
  for (auto it = b.begin(); it != b.end(); ++it) {
    const auto old = a.find(it.key());
    if (old != a.end() && *old == it.value()) continue;
    std::string key = it.key().substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    const std::string text = key + " (" + (old == a.end() ? "unset" : old->dump()) + " -> " + it.value().dump() + ")";
    if (!may_change_on_resume(it.key()))
      throw ConfigError("--resume: the config changes " + text + "; the architecture, data and seed come from the " +
                        "checkpoint " + checkpoint + " (only train.*, decode.*, device, precision and threads may change)");
    changed.push_back(text);
  }
  return c;
}

}  // namespace attn
