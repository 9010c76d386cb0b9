// eval, predict and inspect for encoder-decoder checkpoints: translation with greedy or beam
// search, BLEU.
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "attn/data/batcher.h"
#include "attn/data/seq2seq/seq2seq_data.h"
#include "attn/data/seq2seq/seq2seq_tasks.h"
#include "attn/data/tokenizer.h"
#include "attn/infer/attention_maps.h"
#include "attn/infer/checkpoint_model.h"
#include "attn/infer/evaluate_seq2seq.h"
#include "attn/infer/search.h"
#include "attn/model/multi_head_attention.h"
#include "attn/runtime/runtime.h"
#include "attn/model/build.h"
#include "cli/task_commands.h"

namespace attn {

using nlohmann::json;

namespace {

CheckpointSeq2Seq load_seq2seq(CheckpointReader& reader, const std::string& device, const std::string& attention,
                               const std::string& precision) {
  auto m = load_seq2seq_checkpoint(reader, device);
  set_threads(m.header.config.threads);
  set_precision(precision.empty() ? m.header.config.precision : parse<Precision>(precision));
  if (!attention.empty()) use_attention(*m.model, m.header.config.model, parse<AttentionMode>(attention));
  return m;
}

SearchOptions search_from(const Config& cfg, const DecodeFlags& f) {
  auto o = search_options(cfg, f.beam > 0 ? f.beam : cfg.decode.beam_size);
  if (f.length_penalty >= 0) o.length_penalty = f.length_penalty;
  if (f.max_len_a >= 0) o.max_len_a = f.max_len_a;
  if (f.max_len_b >= 0) o.max_len_b = f.max_len_b;
  return o;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
  out.flush();
  if (!out) throw std::runtime_error(path + ": cannot write the translations");
}

class Seq2SeqCommands final : public TaskCommands {
 public:
  int eval(const EvalRequest& req, CheckpointReader& checkpoint) const override {
    if (req.max_len > 0)
      throw UsageError("--max-len is for classifiers; seq2seq output lengths are set by --max-len-a/--max-len-b");
    auto m = load_seq2seq(checkpoint, req.device, req.attention, req.precision);
    const Config& cfg = m.header.config;
    const DataConfig& data = cfg.data;
    const std::string split = req.split;
    std::vector<EncodedPair> pairs;
    std::vector<std::string> references;
    if (!req.data_path.empty()) {
      if (is_seq2seq_task(data.kind))
        throw UsageError("--data: this checkpoint was trained on the built-in task \"" + to_string(data.kind) +
                         "\", which is generated, not read from files");
      // That file is what is evaluated, whole: with --target, line-aligned references; without,
      // source<TAB>target pairs.
      for (const auto& p : read_parallel_files(req.data_path, req.target_path).pairs) {
        pairs.push_back({m.source_codec->encode(p.source), m.target_codec->encode(p.target)});
        references.push_back(p.target);
      }
    } else {
      if (!req.target_path.empty()) throw UsageError("--target goes with --data (the source file)");
      auto prepared = prepare_seq2seq(read_pair_splits(data, cfg.seed), data, m.source_codec, m.target_codec);
      const bool valid = split == "valid";
      pairs = std::move(valid ? prepared.valid : prepared.test);
      references = std::move(valid ? prepared.valid_references : prepared.test_references);
      if (pairs.empty())
        throw UsageError("--split " + split + ": the data has no " + split +
                         " split (give --data SOURCE --target REFERENCES, or use --split valid)");
    }
    const auto search = search_from(cfg, req.decode);
    auto r = evaluate_seq2seq(m.model, pairs, references, *m.target_codec, cfg.decode.batch_size, m.device, /*decode=*/true, search);
    if (!req.hyps_path.empty()) write_lines(req.hyps_path, r.hypotheses);
    json j = r.to_json();
    j["checkpoint"] = m.path;
    j["step"] = m.header.state.step;
    j["split"] = req.data_path.empty() ? split : "file";
    if (!req.data_path.empty()) j["data"] = req.data_path;
    if (!req.target_path.empty()) j["target"] = req.target_path;
    j["beam_size"] = search.beam_size;
    j["attention"] = req.attention.empty() ? to_string(cfg.model.attention) : req.attention;
    if (req.json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    const std::string evaluated = req.data_path.empty() ? "split " + split
                                  : "data " + req.data_path + (req.target_path.empty() ? "" : " -> " + req.target_path);
    std::printf("checkpoint %s (step %lld) | %s | %lld sentence pairs | %s attention | beam %lld\n",
                m.path.c_str(), static_cast<long long>(m.header.state.step), evaluated.c_str(),
                static_cast<long long>(r.count), j["attention"].get<std::string>().c_str(),
                static_cast<long long>(search.beam_size));
    std::printf("loss %.4f | perplexity %.2f | token accuracy %.4f | exact match %.4f\n", r.loss, r.perplexity,
                r.accuracy, r.exact_match);
    std::printf("%s\n%s (lower-cased)\n", r.bleu.to_string().c_str(), r.bleu_lowercase.to_string().c_str());
    std::printf("decoding took %.1f s\n", r.decode_seconds);
    if (!req.hyps_path.empty()) std::printf("translations written to %s\n", req.hyps_path.c_str());
    return 0;
  }

  json report(const ReportRequest& req, CheckpointReader& checkpoint) const override {
    auto m = load_seq2seq(checkpoint, req.device, "", "");
    const Config& cfg = m.header.config;
    const auto raw = read_pair_splits(cfg.data, cfg.seed);
    const bool test = !raw.test.empty();
    const auto& split = test ? raw.test : raw.valid;
    const auto search = search_options(cfg, cfg.decode.beam_size);
    json j = {{"split", test ? "test" : "valid"}, {"beam_size", search.beam_size}, {"examples", json::array()}};
    std::vector<ShownInput> shown;
    for (size_t i = 0; i < split.size() && i < static_cast<size_t>(std::max(req.samples, req.inputs)); ++i) {
      auto s = show_seq2seq_input(m, split[i].source, search);
      if (i < static_cast<size_t>(req.samples)) {
        BleuAccumulator bleu;  // sentence BLEU: sacreBLEU's defaults on one sentence
        bleu.add(s.output, {split[i].target});
        j["examples"].push_back({{"text", split[i].source}, {"reference", split[i].target}, {"output", s.output},
                                 {"score", bleu.score().score}});
      }
      if (i < static_cast<size_t>(req.inputs)) shown.push_back(std::move(s));
    }
    j["attention"] = attention_maps_json(m.path, m.header, cfg.model.attention, shown);
    return j;
  }

  int predict(const PredictRequest& req, CheckpointReader& checkpoint) const override {
    if (!req.text_column.empty() || !req.id_column.empty())
      throw UsageError("--text-column and --id-column are for classifiers; a seq2seq checkpoint reads one source "
                       "sentence per line");
    auto m = load_seq2seq(checkpoint, req.device, req.attention, req.precision);
    const Config& cfg = m.header.config;
    const auto search = search_from(cfg, req.decode);
    // The encoder's position table bounds what it can read.
    const int64_t max_source = cfg.model.positions == Positions::None ? 0 : cfg.model.max_positions;
    std::vector<std::vector<int64_t>> pending;
    auto flush = [&] {
      if (pending.empty()) return;
      std::vector<EncodedPair> pairs;
      for (auto& ids : pending) pairs.push_back({std::move(ids), {}});
      std::vector<size_t> index(pairs.size());
      for (size_t i = 0; i < index.size(); ++i) index[i] = i;
      auto batch = make_pair_batch(pairs, index, m.device);
      auto hyps = translate(m.model, batch.source, batch.source_padding, search);
      for (size_t i = 0; i < hyps.size(); ++i) {
        const bool empty_line = pairs[i].source.empty();
        const auto text = empty_line ? std::string() : m.target_codec->decode(hyps[i].tokens);
        // The sentence alone (no padding) through the model again, its attention recorded.
        const auto alignment =
            req.print_alignment && !empty_line
                ? alignment_pairs(m.model, batch.source[static_cast<int64_t>(i)]
                                               .narrow(0, 0, static_cast<int64_t>(pairs[i].source.size()))
                                               .view({1, -1}),
                                  hyps[i].tokens)
                : std::string();
        if (req.json) {
          json line = {{"translation", text}, {"score", empty_line ? 0.0 : hyps[i].score},
                       {"tokens", empty_line ? 0 : hyps[i].tokens.size()}};
          if (req.print_alignment) line["alignment"] = alignment;
          std::cout << line.dump() << "\n";
        } else {
          std::cout << text << (req.print_alignment ? "\t" + alignment : "") << "\n";
        }
      }
      std::cout.flush();
      pending.clear();
    };
    torch::NoGradGuard no_grad;
    for_each_input_line(req.input, [&](const std::string& line, const std::string& where) {
      auto ids = line.find_first_not_of(" \t") == std::string::npos ? std::vector<int64_t>{}
                                                                      : m.source_codec->encode(line);
      if (max_source > 0 && static_cast<int64_t>(ids.size()) > max_source)
        throw DataError(where + ": " + std::to_string(ids.size()) + " tokens, more than the " +
                        std::to_string(max_source) + " positions this model was built for (model.max_positions); "
                        "split the line");
      pending.push_back(std::move(ids));
      if (static_cast<int64_t>(pending.size()) >= cfg.decode.batch_size) flush();
    });
    flush();
    return 0;
  }

  int inspect(const InspectRequest& req, CheckpointReader& reader) const override {
    auto m = load_seq2seq_checkpoint(reader, "cpu");
    const auto& h = m.header;
    const bool joint = m.source_codec == m.target_codec;
    json j = {{"checkpoint", m.path}, {"format_version", h.format}, {"integrity", reader.integrity()},
              {"attn_version", h.attn_version},
              {"torch_version", h.torch_version}, {"task", "seq2seq"}, {"step", h.state.step},
              {"epoch", h.state.epoch},
              {"best", {{"metric", to_string(h.config.train.metric)}, {"value", h.state.best}, {"step", h.state.best_step}}},
              {"metrics", h.metrics}, {"parameters", count_trainable(*m.model)},
              {"source_vocab", m.source_codec->describe()},
              {"target_vocab", joint ? "joint" : m.target_codec->describe()}, {"config", to_json(h.config)}};
    if (req.json) {
      std::cout << j.dump() << "\n";
      return 0;
    }
    std::printf("checkpoint   %s\nformat       %d (attn %s, LibTorch %s)\nchecksum     %s\ntask         seq2seq\n"
                "step         %lld (epoch %lld)\n",
                m.path.c_str(), h.format, h.attn_version.c_str(), h.torch_version.c_str(), reader.integrity().c_str(),
                static_cast<long long>(h.state.step), static_cast<long long>(h.state.epoch));
    std::printf("best         %s %.4f at step %lld\nparameters   %lld trainable\nsource       %s\ntarget       %s\nconfig\n%s\n",
                to_string(h.config.train.metric).c_str(), h.state.best, static_cast<long long>(h.state.best_step),
                static_cast<long long>(count_trainable(*m.model)), m.source_codec->describe().c_str(),
                joint ? "the source's (joint vocabulary)" : m.target_codec->describe().c_str(),
                to_json(h.config).dump(2).c_str());
    return 0;
  }

  std::vector<ShownInput> show(const ShowRequest& req, CheckpointReader& reader, const std::vector<std::string>& texts,
                               AttentionMode attention) const override {
    auto m = load_seq2seq_checkpoint(reader, req.device);
    const Config& cfg = m.header.config;
    use_attention(*m.model, cfg.model, attention);
    const auto search = search_options(cfg, req.beam > 0 ? req.beam : cfg.decode.beam_size);
    std::vector<ShownInput> shown;
    for (const auto& text : texts) shown.push_back(show_seq2seq_input(m, text, search));
    return shown;
  }

  BenchStep bench_step(const Config& cfg, const torch::Device& device) const override {
    const int64_t vocab = cfg.data.vocab_size;  // sentencepiece: the whole vocabulary; word codecs add 4
    const int64_t batch = cfg.train.batch_size, length = cfg.data.max_len, target_length = cfg.data.max_target_len;
    const auto ids = torch::TensorOptions().dtype(torch::kLong).device(device);
    auto model = build_seq2seq(cfg.model, vocab, vocab);
    model->to(device);
    auto src = torch::randint(4, vocab, {batch, length}, ids);               // (B, S)
    auto tgt = torch::randint(4, vocab, {batch, target_length + 1}, ids);    // (B, T + 1)
    auto tgt_in = tgt.narrow(1, 0, target_length), tgt_out = tgt.narrow(1, 1, target_length);
    auto src_pad = torch::zeros({batch, length}, ids.dtype(torch::kBool));
    auto tgt_pad = torch::zeros({batch, target_length}, ids.dtype(torch::kBool));
    const double ls = cfg.train.label_smoothing;
    BenchStep s;
    s.vocab = vocab, s.batch = batch, s.length = length, s.target_length = target_length;
    s.loss = [=]() mutable { return model->loss(src, tgt_in, tgt_out, src_pad, tgt_pad, ls).loss; };  // as Seq2SeqTask
    // What evaluation computes (infer/evaluate_seq2seq.cpp): each target token's loss and
    // whether its argmax is right, through the fused projection and cross-entropy.
    s.predict = [=]() mutable { return model->loss(src, tgt_in, tgt_out, src_pad, tgt_pad, 0.0).loss; };
    s.module = model.ptr();
    return s;
  }

  bool translates() const override { return true; }
};

}  // namespace

const TaskCommands& seq2seq_commands() {
  static const Seq2SeqCommands commands;
  return commands;
}

}  // namespace attn
