// eval, predict and inspect for set classifiers: accuracy, per-class precision and recall, the
// confusion matrix; labels with class probabilities.
#include <torch/torch.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "attn/data/batcher.h"
#include "attn/data/classify/classification_data.h"
#include "attn/data/classify/text_files.h"
#include "attn/infer/attention_maps.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/infer/evaluate.h"
#include "attn/model/build.h"
#include "attn/model/multi_head_attention.h"
#include "attn/runtime/runtime.h"
#include "cli/task_commands.h"

namespace attn {

using nlohmann::json;

namespace {

// Tsv, Csv or Jsonl for an input file of that extension (a table of inputs), else none.
std::optional<DataKind> table_kind(const std::string& input) {
  auto ext = std::filesystem::path(input).extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == ".tsv") return DataKind::Tsv;
  if (ext == ".csv") return DataKind::Csv;
  if (ext == ".jsonl") return DataKind::Jsonl;
  return std::nullopt;
}

CheckpointModel load_classifier(CheckpointReader& reader, const std::string& device, const std::string& attention,
                                const std::string& precision) {
  auto m = load_checkpoint_model(reader, device);
  set_threads(m.header.config.threads);
  set_precision(precision.empty() ? m.header.config.precision : parse<Precision>(precision));
  if (!attention.empty()) use_attention(*m.model, m.header.config.model, parse<AttentionMode>(attention));
  return m;
}

std::string attention_in_use(const CheckpointModel& m, const std::string& requested) {
  return requested.empty() ? to_string(m.header.config.model.attention) : requested;
}

class ClassifyCommands final : public TaskCommands {
 public:
  int eval(const EvalRequest& req, CheckpointReader& reader) const override {
    if (!req.target_path.empty() || !req.hyps_path.empty())
      throw UsageError("--target and --hyps are for seq2seq checkpoints; this one is a classifier");
    auto m = load_classifier(reader, req.device, req.attention, req.precision);
    DataConfig data = m.header.config.data;
    // --data: that file (an IMDB directory: its test/) is what is evaluated, whole.
    std::vector<TextExample> from_file;
    RawSplits raw;
    if (!req.data_path.empty()) {
      if (is_set_task(data.kind))
        throw UsageError("--data: this checkpoint was trained on the built-in task \"" + to_string(data.kind) +
                         "\", which is generated, not read from files");
      from_file = data.kind == DataKind::Imdb ? read_imdb_split(req.data_path, "test")
                                      : read_labelled_file(data.kind, req.data_path, columns_of(data)).examples;
    } else {
      raw = read_splits(data, m.header.config.seed);
    }
    const std::string evaluated = !req.data_path.empty() ? req.data_path : req.split;
    const auto& split = !req.data_path.empty() ? from_file : req.split == "valid" ? raw.valid : raw.test;
    if (split.empty())
      throw UsageError("--split " + req.split + ": the data has no " + req.split +
                       " split (set data.test_path in the config, use --split valid, or give --data FILE)");
    if (req.max_len > 0) {
      if (data.fixed_length && req.max_len != data.max_len)
        throw UsageError("--max-len: this checkpoint pads every batch to data.max_len (" +
                         std::to_string(data.max_len) + ", data.fixed_length), so inputs cannot be longer or shorter");
      if (m.header.config.model.positions != Positions::None && req.max_len > m.header.config.model.max_positions)
        throw UsageError("--max-len: the model has positions for " +
                         std::to_string(m.header.config.model.max_positions) + " tokens; got " +
                         std::to_string(req.max_len));
      data.eval_max_len = req.max_len;
    }
    auto encoded = encode(split, make_tokenizer(data), m.vocab, m.header.labels, eval_length(data));
    const auto& labels = m.header.labels;
    auto r = evaluate(m.model, encoded, data, m.header.config.train.batch_size, m.device,
                      static_cast<int64_t>(labels.size()));
    json j = r.to_json(labels);
    j["checkpoint"] = m.path;
    j["step"] = m.header.state.step;
    j["split"] = req.data_path.empty() ? req.split : "file";
    if (!req.data_path.empty()) j["data"] = req.data_path;
    j["attention"] = attention_in_use(m, req.attention);
    if (req.json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    std::printf("checkpoint %s (step %lld) | %s %s | %lld examples | %s attention\n", m.path.c_str(),
                static_cast<long long>(m.header.state.step), req.data_path.empty() ? "split" : "data",
                evaluated.c_str(),
                static_cast<long long>(r.count), j["attention"].get<std::string>().c_str());
    std::printf("loss %.4f | accuracy %.4f\n\n%-12s %9s %9s\n", r.loss, r.accuracy, "class", "precision", "recall");
    for (size_t c = 0; c < labels.size(); ++c)
      std::printf("%-12s %9.4f %9.4f\n", labels[c].c_str(), r.precision[c], r.recall[c]);
    if (labels.size() <= 20) {
      std::printf("\nconfusion (rows: true class, columns: predicted)\n%-12s", "");
      for (const auto& l : labels) std::printf(" %8s", l.substr(0, 8).c_str());
      std::printf("\n");
      for (size_t c = 0; c < labels.size(); ++c) {
        std::printf("%-12s", labels[c].c_str());
        for (auto n : r.confusion[c]) std::printf(" %8lld", static_cast<long long>(n));
        std::printf("\n");
      }
    }
    return 0;
  }

  json report(const ReportRequest& req, CheckpointReader& reader) const override {
    auto m = load_classifier(reader, req.device, "", "");
    const DataConfig& data = m.header.config.data;
    const auto raw = read_splits(data, m.header.config.seed);
    const bool test = !raw.test.empty();
    const auto& split = test ? raw.test : raw.valid;
    const auto& labels = m.header.labels;
    const auto r = evaluate(m.model, encode(split, make_tokenizer(data), m.vocab, labels, eval_length(data)), data,
                            m.header.config.train.batch_size, m.device, static_cast<int64_t>(labels.size()));
    json j = {{"split", test ? "test" : "valid"}, {"metrics", r.to_json(labels)}, {"examples", json::array()}};
    std::vector<ShownInput> shown;
    for (size_t i = 0; i < split.size() && i < static_cast<size_t>(std::max(req.samples, req.inputs)); ++i) {
      auto s = show_classifier_input(m, split[i].text);
      if (i < static_cast<size_t>(req.samples))
        j["examples"].push_back({{"text", split[i].text}, {"reference", split[i].label}, {"output", s.output},
                                 {"score", s.score}});
      if (i < static_cast<size_t>(req.inputs)) shown.push_back(std::move(s));
    }
    j["attention"] = attention_maps_json(m.path, m.header, m.header.config.model.attention, shown);
    return j;
  }

  int predict(const PredictRequest& req, CheckpointReader& reader) const override {
    if (req.print_alignment)
      throw UsageError("--print-alignment is for seq2seq checkpoints; this one is a classifier (attn show draws "
                       "its attention)");
    auto m = load_classifier(reader, req.device, req.attention, req.precision);
    const auto& data = m.header.config.data;
    const auto tok = make_tokenizer(data);
    const auto& labels = m.header.labels;
    torch::NoGradGuard no_grad;
    std::vector<EncodedExample> pending;
    std::vector<std::optional<std::string>> ids;  // the pending rows' ids (a table with an id column)
    auto flush = [&] {
      if (pending.empty()) return;
      std::vector<size_t> index(pending.size());
      for (size_t i = 0; i < index.size(); ++i) index[i] = i;
      auto batch = make_batch(pending, index, data, m.device);
      auto probs = torch::softmax(m.model(batch.ids, batch.padding), 1).cpu();  // (B, C)
      for (int64_t b = 0; b < probs.size(0); ++b) {
        const auto best = probs[b].argmax().item<int64_t>();
        const auto& id = ids[static_cast<size_t>(b)];
        if (req.json) {
          json p = json::object();
          for (size_t c = 0; c < labels.size(); ++c) p[labels[c]] = probs[b][c].item<double>();
          json line = json::object();
          if (id) line["id"] = *id;
          line["label"] = labels[best];
          line["probs"] = p;
          std::cout << line.dump() << "\n";
        } else {
          std::string row = (id ? *id + "\t" : std::string()) + labels[best];
          char cell[32];
          for (size_t c = 0; c < labels.size(); ++c) {
            std::snprintf(cell, sizeof cell, "\t%.6f", probs[b][c].item<double>());
            row += cell;
          }
          std::cout << row << "\n";
        }
      }
      std::cout.flush();
      pending.clear();
      ids.clear();
    };
    auto add = [&](const std::string& text, std::optional<std::string> id) {
      pending.push_back({encode_text(text, tok, m.vocab, eval_length(data)), 0});
      ids.push_back(std::move(id));
      if (static_cast<int64_t>(pending.size()) >= m.header.config.train.batch_size) flush();
    };
    if (const auto kind = table_kind(req.input)) {
      const auto table =
          read_unlabelled_file(*kind, req.input, {parse<HeaderLine>(req.header), req.text_column, req.id_column});
      std::cerr << "[data] " << req.input << ": " << table.layout << "\n";
      for (const auto& row : table.rows) add(row.text, row.id);
    } else {
      if (!req.text_column.empty() || !req.id_column.empty())
        throw UsageError("--text-column and --id-column are for a table: an input named *.tsv, *.csv or *.jsonl");
      for_each_input_line(req.input, [&](const std::string& line, const std::string&) { add(line, std::nullopt); });
    }
    flush();
    return 0;
  }

  int inspect(const InspectRequest& req, CheckpointReader& reader) const override {
    auto m = load_checkpoint_model(reader, "cpu");
    const auto& h = m.header;
    json j = {{"checkpoint", m.path},
              {"format_version", h.format},
              {"integrity", reader.integrity()},
              {"attn_version", h.attn_version},
              {"torch_version", h.torch_version},
              {"step", h.state.step},
              {"epoch", h.state.epoch},
              {"best", {{"metric", to_string(h.config.train.metric)}, {"value", h.state.best}, {"step", h.state.best_step}}},
              {"metrics", h.metrics},
              {"parameters", count_trainable(*m.model)},
              {"vocab_size", m.vocab.size()},
              {"labels", h.labels},
              {"config", to_json(h.config)}};
    if (req.json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    std::printf("checkpoint   %s\nformat       %d (attn %s, LibTorch %s)\nchecksum     %s\nstep         %lld (epoch %lld)\n",
                m.path.c_str(), h.format, h.attn_version.c_str(), h.torch_version.c_str(), reader.integrity().c_str(),
                static_cast<long long>(h.state.step), static_cast<long long>(h.state.epoch));
    std::printf("best         %s %.4f at step %lld\nparameters   %lld trainable\nvocabulary   %lld tokens\n",
                to_string(h.config.train.metric).c_str(), h.state.best, static_cast<long long>(h.state.best_step),
                static_cast<long long>(count_trainable(*m.model)), static_cast<long long>(m.vocab.size()));
    std::string labels;
    for (const auto& l : h.labels) labels += (labels.empty() ? "" : ", ") + l;
    std::printf("labels       %s\nconfig\n%s\n", labels.c_str(), to_json(h.config).dump(2).c_str());
    return 0;
  }

  std::vector<ShownInput> show(const ShowRequest& req, CheckpointReader& reader, const std::vector<std::string>& texts,
                               AttentionMode attention) const override {
    auto m = load_checkpoint_model(reader, req.device);
    use_attention(*m.model, m.header.config.model, attention);
    std::vector<ShownInput> shown;
    for (const auto& text : texts) shown.push_back(show_classifier_input(m, text));
    return shown;
  }

  BenchStep bench_step(const Config& cfg, const torch::Device& device) const override {
    const int64_t vocab = cfg.data.vocab_size + 2, batch = cfg.train.batch_size, length = cfg.data.max_len;  // <unk>, <pad>
    const auto ids = torch::TensorOptions().dtype(torch::kLong).device(device);
    auto model = build_classifier(cfg.model, vocab, 2);
    model->to(device);
    auto x = torch::randint(2, vocab, {batch, length}, ids);               // (B, T)
    auto y = torch::randint(0, 2, {batch}, ids);                           // (B)
    torch::Tensor pad;  // a mask (nothing padded) when the config masks padding: its cost counts
    if (cfg.data.mask_padding) pad = torch::zeros({batch, length}, ids.dtype(torch::kBool));
    const double ls = cfg.train.label_smoothing;
    BenchStep s;
    s.vocab = vocab, s.batch = batch, s.length = length;
    s.loss = [=]() mutable {  // as ClassifyTask::forward
      return torch::nn::functional::cross_entropy(
          model(x, pad), y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(ls));
    };
    s.predict = [=]() mutable { return model(x, pad).argmax(-1); };
    s.module = model.ptr();
    return s;
  }

  bool translates() const override { return false; }
};

}  // namespace

const TaskCommands& classify_commands() {
  static const ClassifyCommands commands;
  return commands;
}

}  // namespace attn
